// A simulated week of reset traffic through the whole gateway (the Hono app inside
// workerd, the real Durable Object store, the shipped rules), on a fake clock: owners
// warm up their history, then reset at home, abroad, behind cloud proxies, and attackers
// try takeovers; the origin (in process) reports sends, completions, abandonments and
// fraud through POST /v1/outcomes, signed with the development origin key, as
// tools/traffic.mjs does against a live gateway. The traffic comes from
// tools/traffic-model.mjs, seeded, so every run plays the same week.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { decodeJwt, importJWK, type JWTPayload, SignJWT } from "jose";
import { createApp } from "../../src/app.ts";
import { createAuditor } from "../../src/audit/auditor.ts";
import { ExperimentMonitor } from "../../src/scoring/experiments/monitor.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { DEV_OUTCOME_SIGNING_KEY } from "../../src/outcomes/keys.ts";
import { compileRuleset } from "../../src/scoring/ruleset/compile.ts";
import { outcomes, type PlannedReset, plan, population, rng, type User } from "../../tools/traffic-model.mjs";

const GATEWAY = "https://gateway.test";
const DEVICE_COOKIE = "__Host-riskgate-device";
/** How often the simulated origin retries a report the gateway answered 503 (store failure). */
const REPORT_RETRIES = 3;

/** A timed step: a reset, or an outcome report for a forwarded decision. */
type Step =
  | { readonly at: number; readonly reset: PlannedReset; readonly warmup: boolean }
  | { readonly at: number; readonly report: { token: string; jti: string; event: string; country: string } };

/** What a week produced besides the store's tallies. */
export interface WeekRun {
  readonly gateway: Gateway;
  readonly experimentId: string;
  readonly end: number;
  /** Decisions by kind of request and tier, e.g. `travel medium`. */
  readonly tiers: Map<string, number>;
  readonly reports: number;
  readonly logs: Record<string, unknown>[];
}

class Queue {
  private readonly steps: Step[] = [];
  push(step: Step): void {
    let lo = 0;
    let hi = this.steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.steps[mid]?.at ?? 0) <= step.at) lo = mid + 1;
      else hi = mid;
    }
    this.steps.splice(lo, 0, step);
  }
  shift(): Step | undefined {
    return this.steps.shift();
  }
}

async function through(gateway: Gateway, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await createApp(async () => gateway).fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function resetRequest(r: PlannedReset, cookie: string | undefined): Request {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    "user-agent": r.device.userAgent,
    "accept-language": r.device.acceptLanguage,
    ...r.device.hints,
    "sec-fetch-mode": "cors",
    "sec-fetch-site": "same-origin",
    "sec-fetch-dest": "empty",
    "cf-connecting-ip": r.ip,
  };
  if (cookie !== undefined) headers.cookie = cookie;
  return new Request(`${GATEWAY}/password/reset`, { method: "POST", headers, body: JSON.stringify({ email: r.user.email }) });
}

async function signReport(report: { token: string; jti: string; event: string; country: string }, now: number): Promise<string> {
  const key = await importJWK(DEV_OUTCOME_SIGNING_KEY, "ES256");
  // The origin knows where it sent the code (the owner's phone): the destination country.
  const extra = report.event === "sent" ? { country: report.country } : {};
  return new SignJWT({ event: report.event, decision_id: report.jti, decision: report.token, ...extra })
    .setProtectedHeader({ alg: "ES256", kid: DEV_OUTCOME_SIGNING_KEY.kid ?? "", typ: "riskgate-outcome+jwt" })
    .setAudience("riskgate")
    .setJti(crypto.randomUUID())
    .setIssuedAt(Math.floor(now / 1000))
    .sign(key);
}

/** Play `days` of traffic for `users` owners from `start`; the experiment is the shipped one, renamed. */
export async function simulateWeek(options: { seed: number; users: number; start: number; days?: number; experimentId: string }): Promise<WeekRun> {
  const { seed, start, days = 7 } = options;
  const base = await createGateway(env);
  // The shipped rules; only the experiment's id differs, so traffic of other tests in the
  // shared store cannot mix into this week's tallies.
  const spec = base.ruleset.spec;
  const ruleset = compileRuleset({ ...spec, experiments: spec.experiments.map((e) => ({ ...e, id: options.experimentId })) }, `week-${seed}`);
  const clock = { now: start };
  const logs: Record<string, unknown>[] = [];
  let last: { claims: JWTPayload; token: string } | null = null;
  const gateway: Gateway = {
    ...base,
    ruleset,
    now: () => clock.now,
    log: () => undefined,
    // No audit sinks: a week of audit events to the hub and the webhook only slows the run.
    audit: createAuditor({ source: "week", rules: ruleset.version, sinks: [], now: () => clock.now, newId: () => crypto.randomUUID() }),
    experiments: new ExperimentMonitor(ruleset, base.store, { log: (line) => void logs.push(line) }),
    // The origin: keeps the signed decision it received, answers like a reset backend.
    fetcher: async (input, init) => {
      const token = new Request(input, init).headers.get("riskgate-decision") ?? "";
      last = { claims: decodeJwt(token), token };
      return Response.json({ status: "reset started" });
    },
  };
  const users = population({ seed, users: options.users });
  const queue = new Queue();
  const random = rng(seed + 1);
  for (const user of users) {
    const at = start - 3 * 86_400_000 + Math.floor(random() * 86_400_000);
    queue.push({ at, warmup: true, reset: { at, kind: "home", user, ip: user.homeIp, device: user.device, country: user.home, newDevice: false } });
  }
  for (const r of plan({ seed, users, start, days })) queue.push({ at: r.at, reset: r, warmup: false });

  const cookies = new Map<User, string>();
  const tiers = new Map<string, number>();
  let reports = 0;
  for (let step = queue.shift(); step !== undefined; step = queue.shift()) {
    clock.now = step.at;
    if ("report" in step) {
      const body = await signReport(step.report, clock.now);
      const send = () => through(gateway, new Request(`${GATEWAY}/v1/outcomes`, { method: "POST", headers: { "content-type": "application/jwt" }, body }));
      // An origin retries a 503 ERR_STORE_UNAVAILABLE (docs/outcomes.md: safe, the same jti
      // counts once); anything else is a failure of the week.
      let res = await send();
      for (let retry = 0; retry < REPORT_RETRIES && res.status === 503 && res.headers.has("retry-after"); retry++) {
        await res.body?.cancel();
        res = await send();
      }
      if (res.status !== 200) throw new Error(`outcome refused: ${res.status} ${await res.text()}`);
      await res.body?.cancel();
      reports++;
      continue;
    }
    const r = step.reset;
    last = null;
    const res = await through(gateway, resetRequest(r, r.newDevice ? undefined : cookies.get(r.user)));
    const set = new RegExp(`${DEVICE_COOKIE}=[^;]+`).exec(res.headers.get("set-cookie") ?? "")?.[0];
    if (set !== undefined && !r.newDevice) cookies.set(r.user, set);
    const forwarded = last as { claims: JWTPayload; token: string } | null;
    const key = `${step.warmup ? "warmup" : r.kind} ${forwarded === null ? "not-forwarded" : String(forwarded.claims.tier)}`;
    tiers.set(key, (tiers.get(key) ?? 0) + 1);
    if (forwarded === null) continue;
    const jti = String(forwarded.claims.jti);
    const planned = step.warmup
      ? [{ event: "completed" as const, after: 10 * 60_000 }]
      : forwarded.claims.experiment === undefined
        ? []
        : outcomes(random, { channel: String(forwarded.claims.channel), country: r.user.home, attacker: r.kind === "attack" });
    for (const o of planned) queue.push({ at: step.at + o.after, report: { token: forwarded.token, jti, event: o.event, country: r.user.home } });
  }
  return { gateway, experimentId: options.experimentId, end: clock.now, tiers, reports, logs };
}
