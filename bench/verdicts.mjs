// What the clients of an allow-path scenario really got, and why: riskgate run as the
// benchmark runs it ((b): Upstash bridge + redis-server, (c): Durable Object), under the
// same closed-loop wrk load and request stream (bench/wrk-reset.lua, the same offsets as
// bench/measure.mjs's rounds), with workerd's stdout (the decision log: one line per reset,
// hashed identifiers only) kept in a file and tallied per round: verdict and action, reasons,
// dependency errors (STORE_TIMEOUT...) and the route's own milliseconds (`ms`). The harness ignores that stdout;
// this is where a round's "N responses were 4xx/5xx" is explained (BENCHMARKS.md, "The
// occasional 4xx in (b)").
//
//   node bench/verdicts.mjs [b|c] [rounds] [seconds] [--json]   (defaults: b 3 3)
//   (VERDICTS_KEEP=dir: keep the decision log there; VERDICTS_V8_FLAGS="--trace-gc": V8 flags
//   for workerd, whose output lands in the same file; VERDICTS_SCHED=file: every 5 ms, each
//   thread's schedstat (ns on a core, ns runnable but waiting for one) of workerd, this
//   process (the bridge), the origin and redis-server, one line per sample)
// Run it under the shared lock: flock /tmp/bench.lock node bench/verdicts.mjs b 3
import { execFileSync, spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { bundleRiskgate } from "./build.mjs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { cpuMicros, machineBusyMicros, raisePriority, selfAndChildrenMicros, waitMicros } from "./cpu.mjs";
import { runLoad } from "./load.mjs";
import { SCENARIOS, WORKERS } from "./scenarios.mjs";
import { doStorage, startOrigin } from "./services.mjs";
import { freePort, startUpstash } from "./upstash.mjs";
import { startWorkerd, workerCounters, writeConfig } from "./workerd.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);
const json = argv.includes("--json");
const [id = "b", roundsArg = "3", secondsArg = "3"] = argv.filter((a) => !a.startsWith("--"));
const ROUNDS = Number(roundsArg);
const SECONDS = Number(secondsArg);
const scenario = SCENARIOS.find((s) => s.id === id);
if (scenario === undefined || scenario.requests !== "unique") throw new Error(`usage: bench/verdicts.mjs [b|c] [rounds] [seconds]`);
const declared = WORKERS.find((w) => w.name === scenario.worker);
const log = (msg) => (json ? process.stderr : process.stdout).write(`verdicts: ${msg}\n`);

/** The VERDICTS_SCHED sampler (a process of its own on the load core). */
const SAMPLER = `
const { readdirSync, readFileSync, writeSync, openSync } = require("node:fs");
const [out, ...pids] = process.argv.slice(1);
const fd = openSync(out, "w");
const names = {};
setInterval(() => {
  const parts = [];
  for (const pid of pids) {
    let tasks = [];
    try { tasks = readdirSync("/proc/" + pid + "/task"); } catch { continue; }
    for (const tid of tasks) {
      try {
        const [run, wait] = readFileSync("/proc/" + pid + "/task/" + tid + "/schedstat", "utf8").split(" ");
        names[tid] ??= readFileSync("/proc/" + pid + "/task/" + tid + "/comm", "utf8").trim().replace(/\\s/g, "_");
        parts.push(pid + "/" + tid + "/" + names[tid] + ":" + run + ":" + wait);
      } catch {}
    }
  }
  writeSync(fd, Date.now() + " " + parts.join(" ") + "\\n");
}, 5);
`;

execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
const restorePriority = raisePriority();
const cleanups = [];
try {
  await main();
} finally {
  while (cleanups.length > 0) await cleanups.pop()?.().catch(() => undefined);
  restorePriority();
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "riskgate-verdicts-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  log(`bundling riskgate at ${execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim()} (wrangler deploy --dry-run)`);
  const bundle = bundleRiskgate(join(dir, "bundle"));
  const origin = await startOrigin(1, cleanups);
  const upstash = scenario.requires === "upstash" ? await startUpstash({ cpu: 1 }) : null;
  if (upstash !== null && "skipped" in upstash) throw new Error(upstash.skipped);
  if (upstash !== null) cleanups.push(upstash.stop);
  const port = await freePort();
  const worker = { ...declared, bundle, port, bindings: { ...declared.bindings, ...(upstash === null ? {} : upstash.bindings) } };
  const v8Flags = (process.env.VERDICTS_V8_FLAGS ?? "").split(/\s+/).filter((f) => f !== "");
  const config = writeConfig(dir, [worker], { originPort: origin.port, storageDir: doStorage(cleanups), v8Flags });
  const keep = process.env.VERDICTS_KEEP;
  if (keep !== undefined) mkdirSync(keep, { recursive: true });
  const logPath = join(keep ?? dir, `decisions-${id}.jsonl`);
  const fd = openSync(logPath, "w");
  const workerd = await startWorkerd(config, [port], { cpu: 0, stdout: fd });
  closeSync(fd);
  cleanups.push(workerd.stop);
  const schedOut = process.env.VERDICTS_SCHED;
  if (schedOut !== undefined) {
    const pids = [workerd.pid, process.pid, origin.pid, ...(upstash?.pid == null ? [] : [upstash.pid])];
    const sampler = spawn("taskset", ["-c", "1", process.execPath, "-e", SAMPLER, schedOut, ...pids.map(String)], { stdio: "ignore" });
    cleanups.push(async () => sampler.kill("SIGTERM"));
  }

  const rounds = [];
  let consumed = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const before = { ...(await workerCounters(port)), ...(await origin.count()) };
    // How the machine behaved meanwhile: workerd waiting for its core, CPU of processes not
    // ours, and this process's event loop (it hosts the Upstash bridge) stalling.
    const pids = [workerd.pid, origin.pid, ...(upstash !== null && upstash.pid !== null ? [upstash.pid] : [])];
    const own = () => pids.reduce((sum, pid) => sum + cpuMicros(pid), selfAndChildrenMicros());
    const m0 = { wait: waitMicros(workerd.pid), busy: machineBusyMicros(), own: own(), at: performance.now() };
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const startedAt = Date.now();
    const load = await runLoad({ port, seconds: round === 0 ? 2 : SECONDS, connections: 16, mode: "unique", offset: (round + 1) * 2 ** 20, cpu: 1 });
    loop.disable();
    const wallUs = (performance.now() - m0.at) * 1000;
    const machine = {
      workerd_wait_share: Number(((waitMicros(workerd.pid) - m0.wait) / wallUs).toFixed(3)),
      foreign_cores: Number((Math.max(0, machineBusyMicros() - m0.busy - (own() - m0.own)) / wallUs).toFixed(3)),
      bridge_loop_delay_max_ms: Number((loop.max / 1e6).toFixed(1)),
    };
    // Let the forwards queued in waitUntil finish and their log lines reach the file.
    await sleep(1000);
    const after = { ...(await workerCounters(port)), ...(await origin.count()) };
    const text = readFileSync(logPath, "utf8");
    const end = text.lastIndexOf("\n") + 1;
    const lines = text.slice(consumed, end).split("\n").filter((l) => l.startsWith("{"));
    consumed = end;
    const r = tally(lines, startedAt);
    const summary = {
      round: round === 0 ? "warm-up" : round,
      wrk_requests: load.requests,
      wrk_non_2xx: load.errors.status,
      p99_ms: load.latency_us.p99 / 1000,
      handled: after.requests - before.requests,
      forwarded: after.forwarded - before.forwarded,
      ...machine,
      ...r,
    };
    rounds.push(summary);
    log(
      `${summary.round}: wrk ${load.requests} (${load.errors.status} non-2xx, p99 ${summary.p99_ms.toFixed(1)} ms), handled ${summary.handled}, origin ${summary.forwarded}; ${JSON.stringify(machine)}; ` +
        `log lines ${r.lines}: ${JSON.stringify(r.by_outcome)}; route ms p50 ${r.ms.p50} p99 ${r.ms.p99} max ${r.ms.max}`,
    );
    for (const o of r.not_allowed) log(`  not allowed: ${JSON.stringify(o)}`);
  }
  if (json) console.log(JSON.stringify({ scenario: id, rounds }));
}

/** The decision lines of one round, tallied; every request that was not a plain allow, listed. */
function tally(lines, startedAt) {
  const by = {};
  const ms = [];
  const notAllowed = [];
  let decisions = 0;
  for (const line of lines) {
    let d;
    try {
      d = JSON.parse(line);
    } catch {
      continue;
    }
    if (d.type !== "riskgate.decision") continue;
    decisions++;
    const errors = (d.errors ?? []).map((e) => `${e.dependency}:${e.code}${e.fallback ? `(${e.fallback})` : ""}`);
    const key = `${d.verdict}/${d.action}${errors.length > 0 ? ` [${errors.join(",")}]` : ""}`;
    by[key] = (by[key] ?? 0) + 1;
    if (typeof d.ms === "number") ms.push(d.ms);
    if (d.verdict !== "allow" || errors.length > 0 || d.action !== "forwarded") {
      notAllowed.push({
        verdict: d.verdict,
        action: d.action,
        tier: d.tier,
        score: d.score,
        reasons: (d.reasons ?? []).map((x) => x.code ?? x),
        errors,
        rate_limits: d.rate_limits ?? [],
        ms: d.ms,
        asn: d.facts?.geo?.asn ?? d.facts?.asn ?? null,
        ua: d.facts?.device?.ua_family ?? null,
        // Arrival, in seconds after the load started (the round lasts SECONDS).
        at_s: Number(((Date.parse(d.ts) - startedAt) / 1000).toFixed(3)),
      });
    }
  }
  ms.sort((a, b) => a - b);
  const q = (p) => (ms.length === 0 ? null : ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]);
  return { lines: decisions, by_outcome: by, ms: { p50: q(0.5), p99: q(0.99), max: q(1) }, not_allowed: notAllowed };
}

