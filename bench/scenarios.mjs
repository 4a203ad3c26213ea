// What `npm run bench` measures: the workers workerd serves and the scenarios run
// against them, as data. A scenario names its worker, the request stream
// (bench/wrk-reset.lua modes) and what a valid round looks like; `requires` names a
// probe (below) that must pass before it runs, otherwise it reports `skipped` with the
// probe's reason and its ratios are null.

/**
 * Riskgate's Durable Objects each in an isolate of their own (`splitDurableObjects`), as
 * on Cloudflare, by default; BENCH_SPLIT_DO=0 puts them in the worker's isolate, the default
 * before 2026-12-03. In that shared layout, once the 16 connections saturate workerd's core,
 * workerd starves new I/O until the load stops:
 * (c)'s forwards reach the origin only after the round, each on a new connection (0.98–0.99
 * per request), and a trivial worker in its own isolate of the same process waits 1.4 s
 * median to be answered (BENCHMARKS.md, "Origin connections in (c): the shared isolate").
 */
const SPLIT_DO = process.env.BENCH_SPLIT_DO !== "0";

/** Bindings every riskgate worker gets: development mode uses the documented dev secrets. */
// The reset route's answer floor (RESET_RESPONSE_FLOOR_MS, 250 ms by default, SECURITY.md 12)
// is a timer: it adds latency, not CPU. With wrk's 16 closed-loop connections it would cap
// every riskgate scenario at 64 req/s and measure the timer, so the bench turns it off.
const RISKGATE_VARS = { RISKGATE_ENV: "development", RESET_RESPONSE_FLOOR_MS: "0" };

/** Workers served by the one workerd process. `requires` as for scenarios. */
export const WORKERS = [
  { name: "passthrough", build: "baseline" },
  { name: "answer", build: "baseline" },
  { name: "store-passthrough", build: "baseline", requires: "upstash" },
  { name: "ratelimit-peer", build: "baseline", requires: "upstash" },
  { name: "riskgate-do", build: "riskgate", bindings: { ...RISKGATE_VARS, STORE: "durable-object" }, durableObject: true, splitDurableObjects: SPLIT_DO },
  {
    name: "riskgate-upstash",
    build: "riskgate",
    // The Durable Object class is still exported by the bundle, so the namespace is bound.
    bindings: { ...RISKGATE_VARS, STORE: "upstash" },
    durableObject: true,
    splitDurableObjects: SPLIT_DO,
    requires: "upstash",
  },
];

/**
 * The scenarios, in the order rounds alternate.
 * expect.forwarded: every request must reach the origin (allow path);
 * expect.status: "2xx" or an exact status every response must have;
 * expect.saturates: a baseline must keep the gateway's core busy (else it measures the client).
 * store: where store round trips are counted ("durable-object": the counting entry's
 * counter; "upstash": requests the REST bridge served).
 */
export const SCENARIOS = [
  {
    id: "a",
    label: "baseline: bare Hono pass-through",
    worker: "passthrough",
    requests: "unique",
    expect: { forwarded: true, status: "2xx", saturates: true },
    store: null,
  },
  {
    id: "b",
    label: "riskgate allow path, Upstash adapter (bridge + redis-server)",
    worker: "riskgate-upstash",
    requests: "unique",
    expect: { forwarded: true, status: "2xx" },
    store: "upstash",
    requires: "upstash",
  },
  {
    id: "c",
    label: "riskgate allow path, Durable Object adapter",
    worker: "riskgate-do",
    requests: "unique",
    expect: { forwarded: true, status: "2xx" },
    store: "durable-object",
  },
  {
    id: "d",
    label: "riskgate, identifier already blocked (penalty box / ephemeral cache)",
    worker: "riskgate-do",
    requests: "blocked",
    expect: { forwarded: false, status: 429 },
    store: "durable-object",
    requires: "blocked",
  },
  {
    id: "e",
    label: "baseline: bare Hono answer, no forwarding",
    worker: "answer",
    requests: "blocked",
    expect: { forwarded: false, status: 429, saturates: true },
    store: null,
  },
  {
    // Reference, never a target: the cheapest gateway that makes one store round trip
    // (bench/workers/store-passthrough.ts). f/a is the most any such gateway reaches here.
    id: "f",
    label: "reference: bare Hono, one Upstash call, then forward",
    worker: "store-passthrough",
    requests: "unique",
    expect: { forwarded: true, status: "2xx" },
    store: "upstash",
    requires: "upstash",
  },
  {
    // The peer: @upstash/ratelimit as its README shows it (two sliding windows, per IP and
    // per account), same bridge and Redis as (b), then forward (bench/workers/ratelimit-peer.ts).
    // What a team would build instead; b/g (peer_ratio) is riskgate against it.
    id: "g",
    label: "peer: Hono + @upstash/ratelimit (IP and account sliding windows), then forward",
    worker: "ratelimit-peer",
    requests: "unique",
    expect: { forwarded: true, status: "2xx" },
    store: "upstash",
    requires: "upstash",
  },
];

/** Headline ratios: throughput of the first scenario over the second, per round. */
export const RATIOS = {
  allow_ratio: ["b", "a"],
  allow_do_ratio: ["c", "a"],
  blocked_ratio: ["d", "e"],
  // Reference: the most a gateway with one store round trip per request reaches (f/a),
  // and riskgate against that gateway (b/f).
  store_floor_ratio: ["f", "a"],
  allow_vs_floor_ratio: ["b", "f"],
  allow_do_vs_floor_ratio: ["c", "f"],
  // riskgate (Upstash) against the peer a team would build from the same libraries.
  peer_ratio: ["b", "g"],
};

/** Targets tracked (never asserted): ratio >= min, or value <= max. */
export const TARGETS = {
  peer_ratio: { min: 1.0 },
  allow_vs_floor_ratio: { min: 0.6 },
  allow_do_vs_floor_ratio: { min: 0.5 },
  blocked_ratio: { min: 0.9 },
  store_round_trips_per_allow: { max: 1 },
  scoring_us_median: { max: 25 },
};

/** The "blocked" identity, exactly as bench/wrk-reset.lua's blocked mode sends it. */
export const BLOCKED_REQUEST = {
  headers: {
    "content-type": "application/json",
    "user-agent":
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
    "accept-language": "en-US,en;q=0.9",
    "cf-connecting-ip": "192.0.2.77",
    "sec-ch-ua": '"Not)A;Brand";v="8", "Chromium";v="138", "Google Chrome";v="138"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Windows"',
    "cf-blob": JSON.stringify({
      country: "DE",
      regionCode: "BE",
      asn: 3320,
      asOrganization: "Deutsche Telekom AG",
      latitude: "52.52000",
      longitude: "13.40500",
    }),
  },
  body: JSON.stringify({ email: "blocked@example.com" }),
};

/** How many requests the "blocked" probe may send before it concludes nothing blocks. */
export const BLOCK_PROBE_LIMIT = 300;

/**
 * BENCH_COMPARE=<git ref>: riskgate as committed at `ref` runs beside the working tree,
 * as scenarios "c_ref" (Durable Object store), "b_ref" (Upstash) and "d_ref" (already blocked) alternating with the
 * others, so a change's effect is measured in one run under the same conditions (the
 * before/after numbers of a performance commit). Pick them with BENCH_ONLY (b,b_ref,c,c_ref,d,d_ref).
 */
export function comparison(ref) {
  const pairs = [
    ["c", "riskgate-do"],
    ["b", "riskgate-upstash"],
    // (d) at the ref: its own worker, blocked by its own probe ("blocked_ref").
    ["d", "riskgate-do-blocked"],
  ];
  const workers = [];
  const scenarios = [];
  for (const [id, name] of pairs) {
    const scenario = SCENARIOS.find((s) => s.id === id);
    const base = WORKERS.find((w) => w.name === (scenario?.worker ?? name));
    if (base === undefined || scenario === undefined) throw new Error(`scenario ${id} is not defined`);
    workers.push({ ...base, name: `${name}-ref`, build: "riskgate-ref" });
    const requires = scenario.requires === "blocked" ? "blocked_ref" : scenario.requires;
    scenarios.push({ ...scenario, id: `${id}_ref`, label: `${scenario.label}, at ${ref}`, worker: `${name}-ref`, requires });
  }
  return { workers, scenarios };
}
