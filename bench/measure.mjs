// Measured rounds: closed-loop load on one scenario's worker, with the gateway's CPU
// time, the worker's own request and store-call counters, the origin's count and the
// CPU used by processes that are not the benchmark's, read just before and (after
// in-flight requests settle) just after. Rounds alternate between scenarios; a round
// disturbed by other work on the machine is repeated, within a bound.
import { setTimeout as sleep } from "node:timers/promises";
import { cpuMicros, machineBusyMicros, selfAndChildrenMicros, waitMicros } from "./cpu.mjs";
import { runLoad } from "./load.mjs";

/** Time for requests in flight when the load stops to finish before counters are read. */
const SETTLE_MS = 250;
/** A baseline must keep the gateway's core busy, or it measures the load generator. */
const MIN_BASELINE_UTILISATION = 0.85;
/**
 * Share of a round the gateway spent runnable but waiting for its core, above which the
 * round counts as disturbed (other processes had the core the gateway wanted).
 */
export const NOISY_WAIT_SHARE = 0.05;

/**
 * @typedef {{ port: number, seconds: number, connections: number, offset: number, round: number,
 *   gatewayPid: number, loadCpu: number, ownPids: number[],
 *   counters: () => Promise<{ requests: number, storeCalls: number | null, backgroundCalls: number | null }>,
 *   originCount: () => Promise<{ forwarded: number, connections: number }> }} RoundContext
 */

/** Measure one round of `scenario`. @param {RoundContext} ctx */
export async function measureRound(scenario, ctx) {
  const pids = [ctx.gatewayPid, ...ctx.ownPids];
  const read = async () => ({
    cpu: cpuMicros(ctx.gatewayPid),
    wait: waitMicros(ctx.gatewayPid),
    own: pids.reduce((sum, pid) => sum + cpuMicros(pid), selfAndChildrenMicros()),
    busy: machineBusyMicros(),
    at: performance.now(),
    ...(await ctx.counters()),
    ...(await ctx.originCount()),
  });
  const before = await read();
  const load = await runLoad({
    port: ctx.port,
    seconds: ctx.seconds,
    connections: ctx.connections,
    mode: scenario.requests,
    offset: ctx.offset,
    cpu: ctx.loadCpu,
  });
  await sleep(SETTLE_MS);
  const after = await read();
  // Requests the worker handled (wrk's count misses those in flight at the end).
  const handled = Math.max(1, after.requests - before.requests);
  const origin = after.forwarded - before.forwarded;
  const cpu = after.cpu - before.cpu;
  const wallUs = (after.at - before.at) * 1000;
  const foreign = Math.max(0, after.busy - before.busy - (after.own - before.own)) / wallUs;
  const waited = (after.wait - before.wait) / wallUs;
  return {
    scenario: scenario.id,
    round: ctx.round,
    requests: load.requests,
    rps: load.requests / (load.duration_us / 1e6),
    p50_us: load.latency_us.p50,
    p90_us: load.latency_us.p90,
    p99_us: load.latency_us.p99,
    cpu_us_per_request: cpu / handled,
    gateway_cpu_util: cpu / load.duration_us,
    store_round_trips_per_request:
      after.storeCalls === null || before.storeCalls === null ? null : (after.storeCalls - before.storeCalls) / handled,
    // Store calls no reset made: the experiment monitor's tally read, per isolate every 10 s.
    store_background_calls:
      after.backgroundCalls == null || before.backgroundCalls == null ? null : after.backgroundCalls - before.backgroundCalls,
    forwarded_per_request: origin / handled,
    // New TCP connections to the origin per request: 0 once a gateway reuses connections.
    origin_connections_per_request: (after.connections - before.connections) / handled,
    foreign_cores: foreign,
    gateway_wait_share: waited,
    noisy: waited > NOISY_WAIT_SHARE,
    errors: load.errors,
    // A disturbed round explains by itself a baseline that did not saturate its core.
    problems: problems(scenario, load, origin, handled, waited > NOISY_WAIT_SHARE ? 1 : cpu / load.duration_us),
  };
}

/** Why a round does not show what the scenario claims to measure (empty when it does). */
function problems(scenario, load, origin, handled, utilisation) {
  const found = [];
  if (scenario.expect.saturates && utilisation < MIN_BASELINE_UTILISATION) {
    found.push(`gateway core only ${Math.round(utilisation * 100)}% busy: the load side limits this baseline`);
  }
  const { connect, read, write, timeout, status } = load.errors;
  if (connect + read + write + timeout > 0) found.push(`socket errors ${JSON.stringify(load.errors)}`);
  if (load.requests === 0) found.push("no request completed");
  if (scenario.expect.status === "2xx" && status > 0) found.push(`${status} responses were 4xx/5xx`);
  if (typeof scenario.expect.status === "number" && status !== load.requests) {
    found.push(`${load.requests - status} responses were not ${scenario.expect.status}`);
  }
  if (scenario.expect.forwarded && origin !== handled) {
    found.push(`origin saw ${origin} of ${handled} requests: not all took the allow path`);
  }
  if (!scenario.expect.forwarded && origin > 0) found.push(`origin saw ${origin} requests that should not reach it`);
  return found;
}

/**
 * A warm-up per scenario, then alternating rounds (a, c, e, a, c, e, ...) until every
 * scenario has `rounds` quiet rounds or `maxRounds` rounds were run.
 * @param {object[]} scenarios
 * @param {{ rounds: number, maxRounds: number, seconds: number, warmupSeconds: number,
 *   context: (scenario: object) => Omit<RoundContext, "seconds" | "offset" | "round">,
 *   log: (line: string) => void }} plan
 */
export async function runRounds(scenarios, plan) {
  const results = [];
  const quiet = (id) => results.filter((r) => r.scenario === id && !r.noisy).length;
  for (let round = 0; round <= plan.maxRounds; round++) {
    if (round > plan.rounds && scenarios.every((s) => quiet(s.id) >= plan.rounds)) break;
    for (const s of scenarios) {
      const warm = round === 0;
      const r = await measureRound(s, {
        ...plan.context(s),
        round,
        seconds: warm ? plan.warmupSeconds : plan.seconds,
        // Each round starts a fresh range of identities (2^20 each), so counters stay low.
        offset: (round + 1) * 2 ** 20,
      });
      if (!warm) results.push(r);
      plan.log(describe(warm ? "warm-up" : `round ${round}`, r));
    }
  }
  return results;
}

function describe(what, r) {
  const notes = [
    ...(r.noisy ? [`disturbed: the gateway waited for its core ${Math.round(r.gateway_wait_share * 100)}% of the time`] : []),
    ...r.problems,
  ];
  return `${what} ${r.scenario}: ${Math.round(r.rps)} req/s, p50 ${r.p50_us} µs, ${r.cpu_us_per_request.toFixed(0)} CPU µs/req${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
}
