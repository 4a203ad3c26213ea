// Rule-engine micro-benchmark: compile time and evaluation time (median µs per request)
// for the shipped rules and for a generated 200-rule file. Prints one JSON line per
// rule set, so `npm run bench` can fold it in later.
//
//   node bench/rules.mjs [--rounds 15] [--batch 2000]
import { register } from "tsx/esm/api";

register();
const { readRuleFiles, compileSpec } = await import("../src/cli/rule-files.ts");
const { loadRuleset } = await import("../src/scoring/ruleset/load.ts");
const { outcomeFor } = await import("../src/scoring/verdict.ts");
const { evaluateRules } = await import("../src/scoring/rules/evaluate.ts");

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg("rounds", 15);
const BATCH = arg("batch", 2000);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median over rounds of the mean µs per call within a round. */
function timeUs(fn, batch = BATCH) {
  for (let i = 0; i < batch; i++) fn(i); // warm up
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn(i);
    rounds.push(Number(process.hrtime.bigint() - t0) / batch / 1000);
  }
  return median(rounds);
}

/** 200 rules over the whole context: comparisons, string tests, list membership, compound conditions. */
function generatedRules(n) {
  const shapes = [
    (i) => `velocity.ip_10m > ${10 + (i % 50)}`,
    (i) => `velocity.account_1h > ${2 + (i % 9)} && device.automation`,
    (i) => `distinct.accounts_per_ip_1h >= ${3 + (i % 20)} || distinct.accounts_per_device_1h >= ${2 + (i % 7)}`,
    (i) => `geo.country in ["C${i % 90}", "D${i % 70}", "E${i % 50}"] && geo.new_country`,
    (i) => `device.browser == "Browser${i}" && device.browser_major < ${60 + (i % 60)}`,
    (i) => `geo.speed_kmh > ${500 + i}.0 && geo.distance_km > ${100 + i}.0`,
    (i) => `device.os.startsWith("Os${i % 10}") && !device.known`,
    (i) => `geo.asn == ${64000 + i} || (ip.version == 6 && geo.as_org.contains("Host${i}"))`,
  ];
  const lines = ["rules:"];
  for (let i = 0; i < n; i++) {
    lines.push(`  - id: gen-${i}`, `    when: '${shapes[i % shapes.length](i).replaceAll("'", "''")}'`, `    weight: ${1 + (i % 10)}`, "    reason: HEADER_ANOMALY");
  }
  return `${lines.join("\n")}\n`;
}

const FACTS = [
  { device: { ua_length: 111, browser: "Chrome", browser_major: 130, os: "Windows", type: "desktop", automation: false, headless: false, known: false }, geo: { known: true, country: "US", region: "CA", asn: 7922, as_org: "Comcast", new_country: false, new_asn: false, distance_km: 0, speed_kmh: 0 }, ip: { known: true, version: 4 }, account: { has_history: true }, velocity: { account_1h: 1, account_24h: 1, ip_10m: 1, subnet_1h: 3 }, distinct: { accounts_per_ip_1h: 1 }, budget: { sms_otp: 3 } },
  { device: { ua_length: 10, browser: "", browser_major: 0, os: "", type: "", automation: true, headless: false, known: false }, geo: { known: true, country: "DE", region: "", asn: 24940, as_org: "Hetzner", new_country: true, new_asn: true, distance_km: 900, speed_kmh: 1800 }, ip: { known: true, version: 6 }, account: { has_history: true }, velocity: { account_1h: 9, account_24h: 30, ip_10m: 40, subnet_1h: 300 }, distinct: { accounts_per_ip_1h: 25, accounts_per_device_1h: 9 }, budget: { sms_otp: 60 } },
];

function measure(name, files) {
  const loadMs = timeUs(() => loadRuleset(files), 5) / 1000;
  const loaded = loadRuleset(files);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors.slice(0, 3)));
  const compileMs = timeUs(() => compileSpec(loaded.spec), 5) / 1000;
  const ruleset = compileSpec(loaded.spec);
  const inputs = FACTS.map((facts) => ({ facts, accountKey: "AAAAAAAAAAAAAAAAAAAAAA", failures: [] }));
  const values = FACTS.map((f) => ruleset.values(f));
  const rulesUs = timeUs((i) => evaluateRules(ruleset, values[i % values.length]));
  const decideUs = timeUs((i) => outcomeFor(ruleset, inputs[i % inputs.length]));
  return {
    bench: "rules",
    ruleset: name,
    rules: ruleset.rules.length,
    validate_ms: Number(loadMs.toFixed(2)),
    compile_ms: Number(compileMs.toFixed(2)),
    evaluate_rules_us: Number(rulesUs.toFixed(2)),
    decide_us: Number(decideUs.toFixed(2)),
  };
}

const shipped = await readRuleFiles("rules");
const policy = shipped.find((f) => f.path.endsWith("policy.yaml"));
console.log(JSON.stringify(measure("default", shipped)));
console.log(JSON.stringify(measure("generated-200", [policy, { path: "generated.yaml", text: generatedRules(200) }])));
console.log(JSON.stringify({ bench: "rules", node: process.version, rounds: ROUNDS, batch: BATCH, note: "validate = YAML + schema + CEL type check (build time); compile = CEL parse (once per isolate); decide = overrides + rules + policy per request" }));
