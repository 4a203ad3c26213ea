// npm run bench: what riskgate costs against a bare pass-through on the same runtime.
// One workerd process (pinned to one core) serves the baselines and riskgate; a
// closed-loop load generator and the origin share the other core; rounds alternate
// between scenarios and each number is the median of the rounds. Then the
// micro-benchmarks. Results go to bench/results/; the last line printed is one JSON
// object with the headline numbers. Method and numbers: BENCHMARKS.md.
//
// Knobs (environment): BENCH_ROUNDS (5), BENCH_SECONDS (3), BENCH_WARMUP_SECONDS (2),
// BENCH_CONNECTIONS (16), BENCH_ONLY (e.g. "a,c": run only these scenarios),
// BENCH_NICE (-10 as root; 0 leaves priorities alone), BENCH_DO_STORAGE (a directory),
// BENCH_COMPARE (a git ref: also measure riskgate as committed there, scenarios c_ref, b_ref and d_ref),
// BENCH_SOAK (default and 1: the memory soak, 120,000 distinct resets after a 10,000-request
// warm-up, past the store's row cap, as issue 17.6 asks; "short": 20,000, which ends while
// the store still climbs to its cap; 0: none), BENCH_SOAK_REQUESTS (any other size), see
// bench/soak.mjs and `npm run bench:soak`. BENCH_SPLIT_DO=0: riskgate's Durable Objects in
// the worker's isolate instead of each in an isolate of its own as on Cloudflare (bench/scenarios.mjs).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleBaseline, bundleRiskgate, bundleRiskgateAt } from "./build.mjs";
import { NICE, pinned, raisePriority } from "./cpu.mjs";
import { machineInfo } from "./machine.mjs";
import { NOISY_WAIT_SHARE, runRounds } from "./measure.mjs";
import { wrkVersion } from "./load.mjs";
import { headline, summarizeScenario, table, targetTable } from "./report.mjs";
import { comparison, SCENARIOS as PLANNED, WORKERS as DECLARED } from "./scenarios.mjs";
import { doStorage, probeBlocked, probeUpstash, startOrigin } from "./services.mjs";
import { freePort, startUpstash } from "./upstash.mjs";
import { startWorkerd, workerCounters, workerdBinary, writeConfig } from "./workerd.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const knob = (name, fallback) => Number(process.env[name] ?? fallback);
const settings = {
  rounds: knob("BENCH_ROUNDS", 5),
  seconds: knob("BENCH_SECONDS", 3),
  warmup_seconds: knob("BENCH_WARMUP_SECONDS", 2),
  connections: knob("BENCH_CONNECTIONS", 16),
  split_durable_objects: process.env.BENCH_SPLIT_DO !== "0",
};
// Read before this process pins itself to one core (nproc honours the affinity mask).
const nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim()) || 1;
// Core 0 for the gateway, core 1 for everything that plays the outside world.
const GATEWAY_CPU = 0;
const LOAD_CPU = nproc > 1 ? 1 : 0;
const log = (msg) => console.log(`bench: ${msg}`);
const COMPARE = process.env.BENCH_COMPARE;
// The commits measured, resolved now: a branch such as `main` may move during the run.
const revParse = (ref) => execFileSync("git", ["rev-parse", "--short", ref], { encoding: "utf8" }).trim();
const COMMITS = { head: revParse("HEAD"), ...(COMPARE === undefined ? {} : { compare: COMPARE, compare_commit: revParse(`${COMPARE}^{commit}`) }) };
const extra = COMPARE === undefined ? null : comparison(COMPARE);
// The soak after the rounds: the full one by default (its growth is read once the store
// has reached its row cap: a shorter soak measures the climb, not a leak), "short" for a
// quick look, none with 0 (or BENCH_ONLY).
const SOAK_REQUESTS =
  process.env.BENCH_SOAK === "0" || (process.env.BENCH_ONLY !== undefined && process.env.BENCH_SOAK === undefined)
    ? 0
    : process.env.BENCH_SOAK === "short"
      ? 20_000
      : knob("BENCH_SOAK_REQUESTS", 120_000);
const SOAK_MAX_SECONDS = SOAK_REQUESTS >= 100_000 ? 600 : 150;
const WORKERS = extra === null ? DECLARED : [...DECLARED, ...extra.workers];
const SCENARIOS = extra === null ? PLANNED : [...PLANNED, ...extra.scenarios];

const cleanups = [];
async function cleanup() {
  while (cleanups.length > 0) await cleanups.pop()?.().catch(() => undefined);
}
// Never run unbounded: give up well inside the 10-minute budget (plus the soak's own bound).
const deadline = setTimeout(async () => {
  console.error("bench: over its time bound, giving up");
  await cleanup();
  restorePriority();
  process.exit(1);
}, 540_000 + (SOAK_REQUESTS > 0 ? (SOAK_MAX_SECONDS + 90) * 1000 : 0));
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () =>
    cleanup().then(() => {
      restorePriority();
      process.exit(130);
    }),
  );
}

execFileSync("taskset", ["-a", "-p", "-c", String(LOAD_CPU), String(process.pid)], { stdio: "ignore" });
// Before any child starts, so all inherit it (the Upstash bridge runs in this process).
const restorePriority = raisePriority();
try {
  await main();
} finally {
  clearTimeout(deadline);
  await cleanup();
  restorePriority();
}

async function main() {
  const wrk = wrkVersion();
  if (wrk === null) throw new Error("wrk is required as the load generator: apt-get install -y wrk (see BENCHMARKS.md)");
  const machine = machineInfo({ nproc, workerdVersion: workerdBinary().version, loadGenerator: wrk });
  log(`${machine.nproc} cores (${machine.cpu_model}), workerd ${machine.workerd}, load: ${wrk}`);
  const services = await startServices();
  const skippedOf = await availability(services);
  const active = SCENARIOS.filter((s) => skippedOf(s) === null);
  for (const s of SCENARIOS) if (skippedOf(s) !== null) log(`(${s.id}) skipped: ${skippedOf(s)}`);
  const rounds = await measure(active, services);
  const soak = SOAK_REQUESTS > 0 ? runSoak(services.riskgateBundle) : null;
  await cleanup();
  log("micro-benchmarks");
  const micro = runNodeJson(["bench/scoring.mjs"]);
  const rules = existsSync(join(ROOT, "bench", "rules.mjs"))
    ? runNodeJson(["bench/rules.mjs"])
    : { skipped: "bench/rules.mjs is not on this branch" };
  // Signals per request (wall and CPU) and reputation lists at a million entries.
  const signals = runNodeJson(["bench/signals.mjs", "--json"]);
  const lists = runNodeJson(["bench/lists.mjs", "--json"]);
  // The live layer's request-path cost: IP reputation facts with 10,000 live entries vs none.
  const liveLists = runNodeJson(["bench/live-lists.mjs", "--json"]);
  const summaries = Object.fromEntries(
    SCENARIOS.map((s) => [s.id, summarizeScenario(s, rounds.filter((r) => r.scenario === s.id), skippedOf(s))]),
  );
  const head = headline(rounds, summaries, micro, soak === null ? null : soakBrief(soak));
  const settingsUsed = { ...settings, ...COMMITS, soak_requests: SOAK_REQUESTS, nice: NICE, gateway_cpu: GATEWAY_CPU, load_cpu: LOAD_CPU, noisy_wait_share: NOISY_WAIT_SHARE };
  const at = new Date().toISOString();
  writeResults({ at, machine, settings: settingsUsed, headline: head, scenarios: summaries, micro, rules, signals, lists, live_lists: liveLists, soak, rounds });
  console.log(`\n${table(summaries)}\n`);
  console.log(
    `scoring ${micro.scoring_us_median} µs/request (median), context ${micro.context_us_median} µs, sign ${micro.sign_us_median} µs, rule compile ${micro.ruleset_compile_ms_median} ms`,
  );
  console.log(
    `signals ${signals.signals_cpu_us_median} µs CPU/request (context ${signals.context_cpu_us_median} µs); lists: ${lists.entries} entries, lookup ${lists.lookup_v4_ns} ns, ${lists.compiled_gzip_bytes} B gzipped`,
  );
  console.log(
    `live lists: IP reputation facts ${liveLists.ip_facts_ns_no_live} ns/request with no live entries, ${liveLists.ip_facts_ns_live} ns with ${liveLists.entries}; reload index ${liveLists.index_build_ms} ms`,
  );
  if (soak !== null && soak.error === undefined) {
    const by = Object.entries(soak.heap_growth_kb_per_10k_by_isolate ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
    console.log(
      `soak: ${soak.requests_measured} distinct resets on the DO store once warm: JS heap ${soak.heap_growth_kb_per_10k} KB per 10k (${by}); workerd RSS ${soak.rss_growth_kb_per_10k_workerd} KB per 10k`,
    );
  } else if (soak !== null) console.log(`soak failed: ${soak.error}`);
  console.log(`\n${targetTable(head)}\n`);
  console.log(JSON.stringify(head));
}

/** Bundles, the origin, the Upstash store when it exists, and workerd serving every worker. */
async function startServices() {
  const dir = mkdtempSync(join(tmpdir(), "riskgate-bench-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  log("bundling riskgate (wrangler deploy --dry-run) and the baselines (esbuild)");
  const bundles = {
    riskgate: bundleRiskgate(join(dir, "riskgate-bundle")),
    passthrough: await bundleBaseline("passthrough", dir),
    answer: await bundleBaseline("answer", dir),
    "store-passthrough": await bundleBaseline("store-passthrough", dir),
    "ratelimit-peer": await bundleBaseline("ratelimit-peer", dir),
    ...(COMPARE === undefined ? {} : { "riskgate-ref": bundleRiskgateAt(COMMITS.compare_commit, join(dir, "ref")) }),
  };
  const origin = await startOrigin(LOAD_CPU, cleanups);
  const upstash = await startUpstash({ cpu: LOAD_CPU });
  if ("stop" in upstash) cleanups.push(upstash.stop);
  const workers = [];
  for (const w of WORKERS) {
    if (w.requires === "upstash" && "skipped" in upstash) continue;
    const extra = w.requires === "upstash" && "bindings" in upstash ? upstash.bindings : {};
    const bundle = w.build === "baseline" ? bundles[w.name] : bundles[w.build];
    workers.push({ ...w, bundle, port: await freePort(), bindings: { ...w.bindings, ...extra } });
  }
  const config = writeConfig(dir, workers, { originPort: origin.port, storageDir: doStorage(cleanups) });
  const workerd = await startWorkerd(config, workers.map((w) => w.port), { cpu: GATEWAY_CPU });
  cleanups.push(workerd.stop);
  const portOf = (name) => workers.find((w) => w.name === name)?.port ?? 0;
  return { origin, upstash, workerd, portOf, riskgateBundle: bundles.riskgate };
}

/** Why each scenario cannot run (null when it can): BENCH_ONLY, then its probe. */
async function availability({ upstash, portOf }) {
  const only = process.env.BENCH_ONLY?.split(",");
  const wanted = (id) => only === undefined || only.includes(id);
  const unavailable = {
    upstash: "skipped" in upstash ? upstash.skipped : await probeUpstash(portOf("riskgate-upstash"), upstash),
    blocked: wanted("d") ? await probeBlocked(portOf("riskgate-do")) : "not in BENCH_ONLY",
    // d_ref exists only with BENCH_COMPARE (its worker is then declared).
    blocked_ref: !wanted("d_ref") ? "not in BENCH_ONLY" : portOf("riskgate-do-blocked-ref") === 0 ? "no BENCH_COMPARE" : await probeBlocked(portOf("riskgate-do-blocked-ref")),
  };
  return (s) => (!wanted(s.id) ? "not in BENCH_ONLY" : s.requires === undefined ? null : unavailable[s.requires]);
}

/** Alternating rounds over the active scenarios. */
function measure(active, { origin, upstash, workerd, portOf }) {
  // Store round trips: the counting entry's Durable Object calls, or the bridge's requests;
  // the experiment monitor's periodic tally read apart (background, not per reset).
  const counters = (s) => async () => {
    const w = await workerCounters(portOf(s.worker));
    if (s.store === "upstash") return { requests: w.requests, storeCalls: upstash.requests(), backgroundCalls: upstash.backgroundRequests() };
    if (s.store === "durable-object") return { requests: w.requests, storeCalls: w.storeCalls, backgroundCalls: w.backgroundCalls };
    return { requests: w.requests, storeCalls: null, backgroundCalls: null };
  };
  const maxRounds = settings.rounds * 2;
  log(
    `${settings.rounds} undisturbed rounds of ${settings.seconds} s each (at most ${maxRounds}) over ${active.map((s) => s.id).join(",")}, after a ${settings.warmup_seconds} s warm-up`,
  );
  return runRounds(active, {
    rounds: settings.rounds,
    maxRounds,
    seconds: settings.seconds,
    warmupSeconds: settings.warmup_seconds,
    log,
    context: (s) => ({
      port: portOf(s.worker),
      connections: settings.connections,
      gatewayPid: workerd.pid,
      loadCpu: LOAD_CPU,
      ownPids: [origin.pid, ...("pid" in upstash && upstash.pid !== null ? [upstash.pid] : [])],
      counters: counters(s),
      originCount: origin.count,
    }),
  });
}

/** The soak (bench/soak.mjs) in its own process: it starts its own workerd, with the inspector. */
function runSoak(bundle) {
  log(`soak: ${SOAK_REQUESTS} distinct resets on the Durable Object store (scenario c's configuration)`);
  try {
    const out = execFileSync(
      process.execPath,
      ["--experimental-websocket", "bench/soak.mjs", "--json", "--bundle", bundle, "--requests", String(SOAK_REQUESTS), "--max-seconds", String(SOAK_MAX_SECONDS)],
      { cwd: ROOT, encoding: "utf8", timeout: (SOAK_MAX_SECONDS + 80) * 1000, stdio: ["ignore", "pipe", "inherit"] },
    );
    const lines = out.trim().split("\n");
    for (const l of lines) if (l.startsWith("soak:")) log(l.slice(6));
    const line = lines.filter((l) => l.startsWith("{")).pop();
    return line === undefined ? { error: "no JSON line" } : JSON.parse(line);
  } catch (err) {
    return { error: err instanceof Error ? err.message.slice(0, 500) : String(err) };
  }
}

/** What of the soak goes into the headline (the samples stay in the results file). */
function soakBrief(soak) {
  if (soak.error !== undefined) return { heap_growth_kb_per_10k: null, brief: { error: soak.error } };
  const { samples, isolates, ...brief } = soak;
  return { heap_growth_kb_per_10k: soak.heap_growth_kb_per_10k, brief };
}

/** Run a node script on the gateway's core (the load is over) and parse its last JSON line. */
function runNodeJson(args) {
  try {
    const [cmd = "", ...rest] = pinned(GATEWAY_CPU, [process.execPath, ...args]);
    const out = execFileSync(cmd, rest, {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 180_000,
    });
    const line = out.trim().split("\n").filter((l) => l.startsWith("{")).pop();
    return line === undefined ? { error: "no JSON line" } : JSON.parse(line);
  } catch (err) {
    return { error: err instanceof Error ? err.message.slice(0, 500) : String(err) };
  }
}

function writeResults(result) {
  // Partial runs (BENCH_ONLY, BENCH_COMPARE) are experiments: kept apart from latest.json.
  const experiment = process.env.BENCH_ONLY !== undefined || COMPARE !== undefined;
  const dir = join(ROOT, "bench", "results", ...(experiment ? ["experiments"] : []));
  mkdirSync(dir, { recursive: true });
  const stamp = result.at.replace(/:/g, "-").replace(/\.\d+Z$/, "Z");
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(dir, `${stamp}.json`), text);
  if (!experiment) writeFileSync(join(dir, "latest.json"), text);
}
