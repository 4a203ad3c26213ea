// The cost of all signals for one request, excluding store I/O: a mix of realistic
// requests (browsers with and without client hints and device cookies, HTTP libraries,
// headless Chrome; residential, hosting, Tor and IPv6 addresses) through
//   context   body, identifier HMAC, client IP, device cookie, client hints, local geo
//   signals   the store plan, then device, headers, geo, velocity, IP reputation and
//             account-history facts from a prepared store answer
//   rules     the default rule set and policy over those facts (for reference)
// Median microseconds per request over rounds of the whole mix.
//
//   node bench/signals.mjs [--rounds 30] [--json]
import { readFileSync } from "node:fs";
import { register } from "tsx/esm/api";

register();
const { buildContext } = await import("../src/reset/context.ts");
const { createHasher } = await import("../src/context/hmac.ts");
const { createGeoResolver } = await import("../src/context/geo.ts");
const { loadLocalGeo } = await import("../src/context/geo-local.ts");
const { signDeviceId, DEVICE_COOKIE } = await import("../src/context/device-cookie.ts");
const { loadReputationLists } = await import("../src/scoring/signals/ip-reputation.ts");
const { planSignals, signalFacts } = await import("../src/scoring/signals/index.ts");
const { compileRuleset } = await import("../src/scoring/ruleset/compile.ts");
const { outcomeFor } = await import("../src/scoring/verdict.ts");

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const ROUNDS = Number(arg("rounds", "30"));

const built = JSON.parse(readFileSync("build/ruleset.json", "utf8"));
const ruleset = compileRuleset(built.spec, built.version);
const lists = loadReputationLists(readFileSync("build/lists.bin"));
const localGeo = loadLocalGeo(readFileSync("build/geo.bin"));
const geo = createGeoResolver("local", true, () => localGeo);
const hasher = await createHasher("bench-secret-bench-secret-bench-secret");
const cookie = `${DEVICE_COOKIE}=${await signDeviceId("Q".repeat(22), hasher)}`;

const chromeHints = {
  "sec-ch-ua": '"Chromium";v="130", "Google Chrome";v="130", "Not?A_Brand";v="99"',
  "sec-ch-ua-mobile": "?0",
  "sec-ch-ua-platform": '"Windows"',
  "sec-fetch-mode": "cors",
  accept: "application/json",
  "accept-language": "en-GB,en;q=0.9,de;q=0.8",
};
const PROFILES = [
  ["chrome-win cookie DE", "80.128.0.1", { "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", cookie, ...chromeHints }],
  ["chrome-android JP", "126.0.0.1", { "user-agent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36", ...chromeHints, "sec-ch-ua-mobile": "?1", "sec-ch-ua-platform": '"Android"' }],
  ["safari-iphone US v6", "2001:4860:4860::8888", { "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", accept: "*/*", "accept-language": "en-US", "sec-fetch-mode": "cors" }],
  ["firefox DE v6", "2003::1", { "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0", accept: "*/*", "accept-language": "de,en;q=0.5", "sec-fetch-mode": "cors" }],
  ["curl hosting", "104.131.0.1", { "user-agent": "curl/8.5.0", accept: "*/*" }],
  ["python tor", "192.0.2.66", { "user-agent": "python-requests/2.31.0", accept: "*/*" }],
  ["headless hosting", "88.198.0.1", { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36" }],
  ["edge spoofed hints", "80.128.0.2", { "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0", ...chromeHints, "sec-ch-ua-platform": '"macOS"' }],
];
const route = ruleset.spec.routes[0];
const request = ([, ip, headers], i) =>
  new Request("https://gateway.test/password/reset", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": ip, ...headers },
    body: JSON.stringify({ email: `user${i}@example.com` }),
  });
// A store answer as the Durable Object would give it, with some history.
const observed = (plan) => ({
  counts: plan.observe.hits.map((_, i) => (i * 3) % 7),
  distinct: plan.observe.distinct.map((_, i) => i % 4),
  history: { devices: ["a".repeat(22)], countries: ["DE"], asns: [3320], lastVerified: { lat: 51.4, lon: 10.3, at: Date.now() - 3_600_000 } },
});
const deps = { hasher, now: Date.now(), trustedIpHeader: null, bodyLimit: 8192, userAgentLimit: 512, geo };
const data = { lists, userAgentLimit: 512 };

// Each round: build the 8 contexts (timed as "context"), then run signals and rules over
// them ITER times (timed as "signals" and "rules"). Both wall time and this process's CPU
// time are recorded: on a shared machine CPU time is the steadier measure of cost.
const ITER = 50;
const samples = { context: [], signals: [], rules: [], contextCpu: [], signalsCpu: [], rulesCpu: [] };
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000; // ms
};
for (let round = 0; round < ROUNDS + 5; round++) {
  const requests = PROFILES.map(request); // built outside the timed section
  let t = performance.now();
  let c = cpuNow();
  const contexts = [];
  for (const req of requests) contexts.push(await buildContext(req, route, deps));
  const tContext = performance.now() - t;
  const cContext = cpuNow() - c;
  const plans = contexts.map((ctx) => planSignals(ctx, ruleset));
  const answers = plans.map(observed);
  let facts = [];
  t = performance.now();
  c = cpuNow();
  for (let i = 0; i < ITER; i++) {
    facts = contexts.map((ctx, j) => signalFacts(ctx, planSignals(ctx, ruleset), answers[j], data));
  }
  const tSignals = performance.now() - t;
  const cSignals = cpuNow() - c;
  t = performance.now();
  c = cpuNow();
  for (let i = 0; i < ITER; i++) for (const f of facts) outcomeFor(ruleset, { facts: f, accountKey: "A".repeat(22), failures: [] });
  const tRules = performance.now() - t;
  const cRules = cpuNow() - c;
  if (round < 5) continue; // warm-up: JIT, UA cache, first geo/lists use
  const n = requests.length;
  samples.context.push((tContext * 1000) / n);
  samples.contextCpu.push((cContext * 1000) / n);
  samples.signals.push((tSignals * 1000) / (n * ITER));
  samples.signalsCpu.push((cSignals * 1000) / (n * ITER));
  samples.rules.push((tRules * 1000) / (n * ITER));
  samples.rulesCpu.push((cRules * 1000) / (n * ITER));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const med = (xs) => Number(median(xs).toFixed(1));
const result = {
  requests_per_round: PROFILES.length,
  rounds: ROUNDS,
  context_us_median: med(samples.context),
  context_cpu_us_median: med(samples.contextCpu),
  signals_us_median: med(samples.signals),
  signals_cpu_us_median: med(samples.signalsCpu),
  rules_us_median: med(samples.rules),
  rules_cpu_us_median: med(samples.rulesCpu),
};
result.all_signals_us_median = Number((result.context_us_median + result.signals_us_median).toFixed(1));
if (!process.argv.includes("--json")) {
  console.log(`signals per request, excluding store I/O (median of ${ROUNDS} rounds of ${PROFILES.length} realistic requests; wall / CPU)`);
  console.log(`  context (HMACs, cookie, hints, geo)  ${result.context_us_median} / ${result.context_cpu_us_median} µs`);
  console.log(`  signals (plan + all facts)           ${result.signals_us_median} / ${result.signals_cpu_us_median} µs`);
  console.log(`  all signals                          ${result.all_signals_us_median} µs`);
  console.log(`  rules (default set, for reference)   ${result.rules_us_median} / ${result.rules_cpu_us_median} µs`);
}
console.log(JSON.stringify(result));
