// Turn rounds into the summary: medians per scenario, paired ratios, targets, the
// table printed for humans and the result object written to bench/results/.
import { median, range, round } from "./stats.mjs";
import { RATIOS, TARGETS } from "./scenarios.mjs";

/** Fewer quiet rounds than this and every round is used, disturbed or not. */
const MIN_QUIET = 3;

/** The rounds a summary uses: the undisturbed ones, when there are enough. */
export function usable(rounds) {
  const quiet = rounds.filter((r) => !r.noisy);
  return quiet.length >= MIN_QUIET ? quiet : rounds;
}

/** Medians (and the rps spread) of one scenario's rounds. */
export function summarizeScenario(scenario, all, skipped) {
  const base = { id: scenario.id, label: scenario.label, worker: scenario.worker };
  if (skipped !== null) return { ...base, skipped };
  const rounds = usable(all);
  const pick = (key) => median(rounds.map((r) => r[key]));
  const spread = range(rounds.map((r) => r.rps));
  return {
    ...base,
    rounds: rounds.length,
    rounds_measured: all.length,
    foreign_cores: round(pick("foreign_cores"), 2),
    gateway_wait_share: round(pick("gateway_wait_share"), 3),
    rps: round(pick("rps"), 0),
    rps_range: spread === null ? null : spread.map((v) => round(v, 0)),
    p50_us: round(pick("p50_us"), 0),
    p99_us: round(pick("p99_us"), 0),
    cpu_us_per_request: round(pick("cpu_us_per_request"), 1),
    gateway_cpu_util: round(pick("gateway_cpu_util"), 2),
    store_round_trips_per_request: round(pick("store_round_trips_per_request"), 3),
    // Store calls no reset made (the experiment monitor's tally read, per isolate every 10 s), per minute of load.
    store_background_calls_per_minute: backgroundPerMinute(rounds),
    forwarded_per_request: round(pick("forwarded_per_request"), 3),
    origin_connections_per_request: round(pick("origin_connections_per_request"), 3),
    problems: [...new Set(rounds.flatMap((r) => r.problems))],
  };
}

function backgroundPerMinute(rounds) {
  const measured = rounds.filter((r) => r.store_background_calls != null && r.rps > 0);
  if (measured.length === 0) return null;
  const seconds = measured.reduce((sum, r) => sum + r.requests / r.rps, 0);
  return round((60 * measured.reduce((sum, r) => sum + r.store_background_calls, 0)) / seconds, 1);
}

/**
 * Ratio of throughputs: the median of per-round ratios, since the two scenarios of a
 * round ran seconds apart under the same conditions. Undisturbed pairs when enough.
 */
export function pairedRatio(rounds, num, den, summaries) {
  if (summaries[num]?.skipped !== undefined || summaries[den]?.skipped !== undefined) return null;
  const byRound = (id) => new Map(rounds.filter((r) => r.scenario === id).map((r) => [r.round, r]));
  const a = byRound(num);
  const b = byRound(den);
  const pairs = [...a].flatMap(([k, ra]) => {
    const rb = b.get(k);
    return rb === undefined ? [] : [{ ratio: ra.rps / rb.rps, noisy: ra.noisy || rb.noisy }];
  });
  return round(median(usable(pairs).map((p) => p.ratio)), 3);
}

const IDS = ["a", "b", "c", "d", "e", "f", "g"];

/** The headline object printed as the last line (`soak`: bench/soak.mjs's summary, if run). */
export function headline(rounds, summaries, micro, soak = null) {
  const out = {};
  for (const [name, [num, den]] of Object.entries(RATIOS)) out[name] = pairedRatio(rounds, num, den, summaries);
  const trips = (id) => (summaries[id]?.skipped === undefined ? (summaries[id]?.store_round_trips_per_request ?? null) : null);
  const allowTrips = [trips("b"), trips("c")].filter((v) => v !== null);
  // The worst measured adapter: the target (<= 1) must hold for every store.
  out.store_round_trips_per_allow = allowTrips.length === 0 ? null : Math.max(...allowTrips);
  out.store_round_trips_per_allow_upstash = trips("b");
  out.store_round_trips_per_allow_do = trips("c");
  // Not per reset, so not in the round trips above: shown so the count hides nothing.
  out.store_background_calls_per_minute_upstash = summaries.b?.store_background_calls_per_minute ?? null;
  out.store_background_calls_per_minute_do = summaries.c?.store_background_calls_per_minute ?? null;
  out.store_round_trips_per_blocked = trips("d");
  out.scoring_us_median = micro?.scoring_us_median ?? null;
  out.store_round_trips_per_allow_peer = trips("g");
  for (const id of IDS) out[`rps_${id}`] = summaries[id]?.rps ?? null;
  for (const id of IDS) out[`cpu_us_per_request_${id}`] = summaries[id]?.cpu_us_per_request ?? null;
  if (summaries.c_ref !== undefined || summaries.b_ref !== undefined || summaries.d_ref !== undefined) {
    // BENCH_COMPARE: the working tree against the ref, paired round by round.
    out.compare = {};
    for (const id of ["c", "b", "d"]) {
      if (summaries[`${id}_ref`]?.rps == null) continue;
      out.compare[`${id}_over_ref_rps`] = pairedRatio(rounds, id, `${id}_ref`, summaries);
      out.compare[`cpu_us_per_request_${id}`] = summaries[id]?.cpu_us_per_request ?? null;
      out.compare[`cpu_us_per_request_${id}_ref`] = summaries[`${id}_ref`].cpu_us_per_request ?? null;
    }
    // blocked_ratio of the ref, paired with the same (e) rounds as the working tree's.
    if (summaries.d_ref?.rps != null && summaries.e?.rps != null) out.compare.blocked_ratio_ref = pairedRatio(rounds, "d_ref", "e", summaries);
  }
  if (soak !== null) {
    out.heap_growth_kb_per_10k = soak.heap_growth_kb_per_10k ?? null;
    out.soak = soak.brief ?? soak;
  }
  out.skipped = Object.values(summaries).filter((s) => s.skipped !== undefined).map((s) => s.id);
  out.targets_met = targetsMet(out);
  return out;
}

/** The targets against the headline values, for humans: one line each, met or not. */
export function targetTable(values) {
  const rows = Object.entries(TARGETS).map(([name, { min, max }]) => {
    const v = values[name];
    const goal = min !== undefined ? `>= ${min}` : `<= ${max}`;
    const verdict = v === null || v === undefined ? "not measured" : values.targets_met?.[name] ? "met" : "NOT MET";
    return [name, v === null || v === undefined ? "-" : String(v), goal, verdict];
  });
  const header = ["target", "value", "goal", "verdict"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

function targetsMet(values) {
  const met = {};
  for (const [name, { min, max }] of Object.entries(TARGETS)) {
    const v = values[name];
    met[name] = v === null || v === undefined ? null : min !== undefined ? v >= min : v <= (max ?? Number.POSITIVE_INFINITY);
  }
  return met;
}

/** A fixed-width table of the scenario summaries. */
export function table(summaries) {
  const cols = [
    ["scenario", (s) => `${s.id} ${s.worker}`],
    ["req/s", (s) => s.rps],
    ["p50 µs", (s) => s.p50_us],
    ["p99 µs", (s) => s.p99_us],
    ["CPU µs/req", (s) => s.cpu_us_per_request],
    ["gw CPU", (s) => s.gateway_cpu_util],
    ["store RT/req", (s) => s.store_round_trips_per_request ?? "-"],
    ["fwd/req", (s) => s.forwarded_per_request],
    ["conn/req", (s) => s.origin_connections_per_request],
    ["rounds", (s) => `${s.rounds}/${s.rounds_measured}`],
  ];
  const rows = Object.values(summaries).map((s) =>
    s.skipped !== undefined ? [`${s.id} ${s.worker}`, `skipped: ${s.skipped}`] : cols.map(([, f]) => String(f(s))),
  );
  const widths = cols.map(([h], i) => Math.max(h.length, ...rows.filter((r) => r.length > 2).map((r) => (r[i] ?? "").length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(cols.map(([h]) => h)), ...rows.map((r) => (r.length === 2 ? `${r[0].padEnd(widths[0] ?? 0)}  ${r[1]}` : line(r)))].join("\n");
}
