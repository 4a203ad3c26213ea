// CEL library comparison behind the choice recorded in docs/architecture.md: compile
// (parse) time, evaluation time over the riskgate rule shapes, type checking, error
// positions and a few spec corner cases. The candidates are not dependencies of
// riskgate; install them in a scratch directory and run from there:
//
//   cd "$(mktemp -d)" && npm init -y >/dev/null &&
//   npm i @marcbachmann/cel-js@8.0.0 @bufbuild/cel@0.6.1 @bufbuild/protobuf cel-js@0.8.2 &&
//   node /path/to/riskgate/bench/cel-compare.mjs
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const fromCwd = createRequire(join(process.cwd(), "noop.js"));
const load = async (name) => import(pathToFileURL(fromCwd.resolve(name)).href);
const marc = await load("@marcbachmann/cel-js");
const buf = await load("@bufbuild/cel");
const old = await load("cel-js");

const RULES = [
  "device.ua_length == 0",
  "device.automation && device.ua_length > 0",
  "device.headless",
  "velocity.account_1h > 5",
  "velocity.ip_10m > 20",
  "velocity.subnet_1h > 100",
  "distinct.accounts_per_ip_1h >= 10",
  "distinct.accounts_per_device_1h >= 5",
  "geo.new_country",
  "geo.speed_kmh > 1000.0 && geo.distance_km > 500.0",
  "device.known",
  'geo.country in ["KP", "IR"] || geo.asn == 64500',
];
const SCHEMA = {
  device: { ua_length: "int", automation: "bool", headless: "bool", known: "bool", browser: "string" },
  velocity: { account_1h: "int", ip_10m: "int", subnet_1h: "int" },
  distinct: { accounts_per_ip_1h: "int", accounts_per_device_1h: "int" },
  geo: { new_country: "bool", speed_kmh: "double", distance_km: "double", country: "string", asn: "int" },
};
const FACTS = {
  device: { ua_length: 110, automation: false, headless: false, known: false, browser: "Chrome" },
  velocity: { account_1h: 2, ip_10m: 3, subnet_1h: 4 },
  distinct: { accounts_per_ip_1h: 1, accounts_per_device_1h: 1 },
  geo: { new_country: true, speed_kmh: 20.5, distance_km: 3.2, country: "DE", asn: 3320 },
};
const typed = (s, k, v) => (SCHEMA[s][k] === "int" ? BigInt(v) : v);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Time several functions round-robin (each round runs every function once, in turn), so
 * they see the same machine load; report the median µs per call of each.
 */
function interleaved(fns, rounds = 31, iters = 1000) {
  const per = fns.map(() => []);
  for (const fn of fns) for (let i = 0; i < iters; i++) fn();
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, k) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) fn();
      per[k].push(Number(process.hrtime.bigint() - t0) / iters / 1000);
    });
  }
  return per.map((xs) => Number(median(xs).toFixed(2)));
}

function marcbachmann() {
  let env = new marc.Environment({ unlistedVariablesAreDyn: false });
  const ctors = {};
  for (const [name, fields] of Object.entries(SCHEMA)) {
    const T = `T_${name}`;
    ctors[name] = { [T]: class { constructor(v) { Object.assign(this, v); } } }[T];
    env = env.registerType(T, { ctor: ctors[name], fields }).registerVariable(name, T);
  }
  const values = () => Object.fromEntries(Object.entries(FACTS).map(([s, f]) => [s, new ctors[s](Object.fromEntries(Object.entries(f).map(([k, v]) => [k, typed(s, k, v)])))]));
  const fns = RULES.map((r) => env.parse(r));
  const check = (e) => { const r = env.check(e); return r.valid ? `ok: ${r.type}` : `${r.error.summary} @${r.error.range?.start}`; };
  return {
    parse: () => RULES.map((r) => env.parse(r)),
    evaluate: () => { const v = values(); for (const f of fns) f(v); },
    info: { unknown_field: check("device.uaa == 1"), type_error: check("device.browser + 1 > 2"), non_bool: check("device.ua_length + 1") },
  };
}

function bufbuild() {
  // Without protobuf message types, field types are declared as qualified variable names.
  const T = { int: buf.CelScalar.INT, bool: buf.CelScalar.BOOL, double: buf.CelScalar.DOUBLE, string: buf.CelScalar.STRING };
  const vars = {};
  for (const [s, f] of Object.entries(SCHEMA)) for (const [k, t] of Object.entries(f)) vars[`${s}.${k}`] = T[t];
  const env = buf.celEnv({ variables: vars });
  const flat = () => { const out = {}; for (const [s, f] of Object.entries(FACTS)) for (const [k, v] of Object.entries(f)) out[`${s}.${k}`] = typed(s, k, v); return out; };
  const fns = RULES.map((r) => buf.plan(env, buf.parse(r)));
  return {
    parse: () => RULES.map((r) => buf.plan(env, buf.parse(r))),
    evaluate: () => { const v = flat(); for (const f of fns) f(v); },
    info: { type_checker: "no public checker in 0.6.1 (unknown names surface at evaluation)" },
  };
}

function celjs() {
  const parsed = RULES.map((r) => old.parse(r));
  return {
    parse: () => RULES.map((r) => old.parse(r)),
    evaluate: () => { for (const p of parsed) old.evaluate(p.cst, FACTS); },
    info: { type_checker: "none" },
  };
}

const CORNERS = [
  ["9223372036854775807 + 1", "error: int overflow"],
  ["5 / 2", "2"],
  ["[1, 2, 3].exists(x, x > 2)", "true"],
  ["(1 / 0 == 1) || true", "true (error absorbed)"],
  ["'abc'.matches('^a.c$')", "true"],
  ["int('12') + 1", "13"],
];
const show = (f) => { try { const v = f(); return buf.isCelError(v) ? `error: ${v.message}` : String(v); } catch (e) { return `error: ${String(e.message).split("\n")[0]}`; } };

const libs = [["@marcbachmann/cel-js", marcbachmann()], ["@bufbuild/cel", bufbuild()], ["cel-js", celjs()]];
const parseUs = interleaved(libs.map(([, l]) => l.parse), 15, 20);
const evalUs = interleaved(libs.map(([, l]) => l.evaluate));
libs.forEach(([name, l], k) => {
  const row = { library: name, parse_us_per_rule: Number(((parseUs[k] ?? 0) / RULES.length).toFixed(2)), eval_us_12_rules: evalUs[k], ...l.info };
  console.log(JSON.stringify(row));
});
for (const [expr, want] of CORNERS) {
  console.log(JSON.stringify({ expr, want, marcbachmann: show(() => marc.evaluate(expr)), bufbuild: show(() => buf.run(expr)), celjs: show(() => old.evaluate(expr)) }));
}
