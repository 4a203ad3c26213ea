// Micro-benchmarks of the request path's CPU work, in Node (V8, like workerd), against
// the src modules themselves (through tsx):
//   scoring:  planSignals -> signalFacts -> outcomeFor (overrides, rules, policy)
//             for realistic requests and store answers (no I/O; the store batch is given)
//   context:  building the request context (body parse, IP parse, 4 HMACs)
//   sign:     signing the Riskgate-Decision JWS (ES256) an allowed request carries
//   compile:  compiling the shipped rule set, as each isolate does once at start
// Each number is the median over batches after a warm-up, in microseconds per call.
//
//   node bench/scoring.mjs     prints one JSON object (the last line) — run by bench/run.mjs
import { performance } from "node:perf_hooks";
import { register } from "tsx/esm/api";

register();
const { buildContext } = await import("../src/reset/context.ts");
const { createHasher } = await import("../src/context/hmac.ts");
const { DEV_HMAC_SECRET } = await import("../src/gateway/config.ts");
const { signDecision } = await import("../src/origin/decision-token.ts");
const { DEV_SIGNING_KEY, loadSigningKeys } = await import("../src/origin/signing-keys.ts");
const { outcomeFor } = await import("../src/scoring/verdict.ts");
const { bundledRuleset } = await import("../src/scoring/ruleset/bundled.ts");
const { compileRuleset } = await import("../src/scoring/ruleset/compile.ts");
const { planSignals, signalFacts } = await import("../src/scoring/signals/index.ts");

const BATCHES = Number(process.env.BENCH_MICRO_BATCHES ?? "25");
const BATCH_SIZE = Number(process.env.BENCH_MICRO_BATCH_SIZE ?? "400");
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 5, 1, 12);

const ruleset = bundledRuleset();
const route = ruleset.spec.routes[0];
const hasher = await createHasher(DEV_HMAC_SECRET);
const keys = await loadSigningKeys(JSON.stringify([DEV_SIGNING_KEY]));
const BERLIN = { country: "DE", region: "BE", asn: 3320, asOrg: "Deutsche Telekom AG", lat: 52.52, lon: 13.405 };
const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36";

function resetRequest({ email, ip, ua }) {
  return new Request("https://gw.example/password/reset", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": ip, "user-agent": ua, "accept-language": "de-DE,de;q=0.9" },
    body: JSON.stringify({ email }),
  });
}

async function contextFor(input, geo) {
  return buildContext(resetRequest(input), route, {
    hasher,
    now: NOW,
    trustedIpHeader: null,
    bodyLimit: ruleset.spec.limits.body_bytes,
    userAgentLimit: ruleset.spec.limits.user_agent_chars,
    // As request.cf would give it (the context takes a resolver: src/context/geo.ts).
    geo: () => ({ ...geo, source: "cf" }),
  });
}

/** A store answer with `n` for every window and `d` for every distinct count. */
function storeAnswer(plan, n, d, history) {
  return { counts: plan.observe.hits.map(() => n), distinct: plan.observe.distinct.map(() => d), history };
}

/** Realistic requests: what a gateway sees most (first two) and what it exists for. */
async function variants() {
  const fresh = await contextFor({ email: "ana@example.com", ip: "203.0.113.7", ua: CHROME }, BERLIN);
  const known = await contextFor({ email: "ben@example.com", ip: "198.51.100.20", ua: CHROME }, BERLIN);
  const traveller = await contextFor({ email: "cy@example.com", ip: "192.0.2.44", ua: CHROME }, BERLIN);
  const script = await contextFor({ email: "victim@example.com", ip: "203.0.113.99", ua: "python-requests/2.32.3" }, {
    ...BERLIN,
    asn: 16509,
    asOrg: "Amazon.com, Inc.",
  });
  const history = (ctx, country, lat, lon, ago) => ({
    devices: [ctx.device?.cookieKey ?? ctx.keys.device, "other-device-key-aaaaaaa"],
    countries: [country],
    asns: [3320],
    lastVerified: { lat, lon, at: NOW - ago },
  });
  return [
    { name: "first_reset_browser", ctx: fresh, answer: (p) => storeAnswer(p, 1, 1, null) },
    { name: "known_device_returning", ctx: known, answer: (p) => storeAnswer(p, 2, 1, history(known, "DE", 52.5, 13.4, 72 * HOUR)) },
    { name: "impossible_travel", ctx: traveller, answer: (p) => storeAnswer(p, 1, 1, history({ keys: { device: "x" } }, "US", 40.7, -74, HOUR)) },
    { name: "scripted_flood", ctx: script, answer: (p) => storeAnswer(p, 40, 25, null) },
  ];
}

/** The synchronous scoring stages for one request, as src/reset/decide.ts runs them. */
function score(ctx, answer) {
  const plan = planSignals(ctx, ruleset);
  const facts = signalFacts(ctx, plan, answer(plan));
  // Overrides, rules and policy, as the pipeline decides (src/scoring/verdict.ts).
  return outcomeFor(ruleset, { facts, accountKey: ctx.keys.account, failures: [] });
}

/** Median µs per call of `fn` over batches, after one warm-up batch. */
async function measure(fn, { batches = BATCHES, size = BATCH_SIZE } = {}) {
  const perCall = [];
  for (let b = -1; b < batches; b++) {
    const started = performance.now();
    for (let i = 0; i < size; i++) await fn(i);
    if (b >= 0) perCall.push(((performance.now() - started) * 1000) / size);
  }
  return median(perCall);
}

/** Same as `measure` for synchronous work (no await in the loop, which would dominate). */
function measureSync(fn, { batches = BATCHES, size = BATCH_SIZE } = {}) {
  const perCall = [];
  let sink = 0;
  for (let b = -1; b < batches; b++) {
    const started = performance.now();
    for (let i = 0; i < size; i++) sink += fn(i) === null ? 0 : 1;
    if (b >= 0) perCall.push(((performance.now() - started) * 1000) / size);
  }
  if (sink < 0) console.log(sink);
  return median(perCall);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const round = (n) => Math.round(n * 100) / 100;

const all = await variants();
const perVariant = {};
for (const v of all) {
  perVariant[v.name] = {
    verdict: score(v.ctx, v.answer).verdict,
    us: round(measureSync(() => score(v.ctx, v.answer))),
  };
}
// The headline: all variants interleaved, so no single request's shape dominates.
const scoringUs = measureSync((i) => {
  const v = all[i % all.length];
  return score(v.ctx, v.answer);
});
const contextUs = await measure((i) =>
  contextFor({ email: `user${i}@example.com`, ip: `203.0.113.${i % 250}`, ua: CHROME }, BERLIN),
);
const decision = { id: "bench", verdict: "allow", tier: "low", score: 0, channel: "email_link", reasons: [], mode: "live", errors: [], rulesetVersion: ruleset.version };
const signUs = await measure(() => signDecision(decision, "acct", "https://origin.example", keys, NOW / 1000));
const artefact = { spec: ruleset.spec, version: ruleset.version };
const compileStarted = performance.now();
compileRuleset(artefact.spec, artefact.version);
const compileColdMs = performance.now() - compileStarted;
const compileMs = measureSync(() => compileRuleset(artefact.spec, artefact.version), { batches: 15, size: 5 }) / 1000;

console.log(
  JSON.stringify({
    runtime: `node ${process.version}`,
    rules: ruleset.rules.length,
    scoring_us_median: round(scoringUs),
    scoring_us_by_request: perVariant,
    context_us_median: round(contextUs),
    sign_us_median: round(signUs),
    ruleset_compile_ms_first: round(compileColdMs),
    ruleset_compile_ms_median: round(compileMs),
    batches: BATCHES,
    batch_size: BATCH_SIZE,
  }),
);
