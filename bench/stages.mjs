// Where every microsecond of a reset goes (BENCHMARKS.md, "Stage table"): a V8 CPU
// profile of riskgate under the benchmark's load, each sample attributed to a stage of
// the reset route by the source file of the innermost stack frame that belongs to one,
// set against workerd's own CPU time (/proc, all threads) over the same seconds.
//
//   node --experimental-websocket bench/stages.mjs [b|c|d|both|riskgate-upstash|riskgate-do] [seconds] [--json] [--ref <git ref>]
//   (b, c, d: the benchmark's scenarios; d floods the blocked identity until riskgate answers
//   429, then profiles the blocked stream: the refusal path of the screen stage)
//   (--ref: profile riskgate as committed at that ref, e.g. the table before a change)
//   (STAGES_TOP=n: how many frames to list by self time, 40 by default)
//   (STAGES_HEAP=1: also a sampling heap profile over the same seconds, collected objects
//   included, listed as bytes allocated per request by function and caller)
//   (STAGES_SPLIT=1: the Durable Objects in isolates of their own, as on Cloudflare and
//   as the benchmark hosts them by default; only the worker's isolate is profiled)
//
// Stages come from the bundle's module markers (wrangler's esbuild writes `// src/x.ts`
// before each module), so a function moving between files moves its samples with it.
// A sample whose stack holds no stage file is the runtime's own: "(program)" (native
// work outside JS: HTTP, sockets, the event loop), "(garbage collector)", and native
// frames with no JS caller. Samples are 100 µs apart (wall time while the thread runs);
// "(idle)" is excluded. The profiler's own overhead is inside both sides.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleRiskgate, bundleRiskgateAt } from "./build.mjs";
import { cpuMicros, raisePriority, waitMicros } from "./cpu.mjs";
import { runLoad } from "./load.mjs";
import { startBenchOrigin } from "./origin.mjs";
import { SCENARIOS, WORKERS } from "./scenarios.mjs";
import { probeBlocked } from "./services.mjs";
import { freePort, startUpstash } from "./upstash.mjs";
import { startWorkerd, workerCounters, writeConfig } from "./workerd.mjs";

/**
 * Stage of a source file, or of a function in it (first match wins; a file no pattern
 * matches is generic, e.g.
 * src/shared, src/gateway (the gateway's fetcher), the HMAC hasher or a library, and its samples
 * go to the stage of its caller).
 */
export const STAGES = [
  ["store call", /^src\/store\/|^node_modules\/@upstash\//],
  ["signing", /^src\/origin\/(decision-token|signing-keys)\.ts$/],
  ["forward", /^src\/origin\/forward\.ts$|^src\/reset\/(deliver|forward-job)\.ts$/],
  ["record: audit hub (Durable Object)", /^src\/audit\/hub\//],
  // The decision log line: built in record.ts (decisionLogLine), serialised and logged in decision-log.ts.
  ["record: decision log line", /^src\/audit\/decision-log\.ts$/],
  ["record: decision log line", /^src\/reset\/record\.ts$/, /^decisionLogLine$/],
  ["record: decision log line", /^src\/scoring\/rules\/context-schema\.ts$/, /^nonZeroFacts$/],
  ["record: audit events (stamp, log and hub sinks)", /^src\/audit\/|^src\/reset\/record\.ts$|^src\/gateway\/auditor\.ts$|^src\/scoring\/experiments\/record\.ts$/],
  ["screen", /^src\/reset\/(screen|refusals)\.ts$/],
  // The hasher (src/context/hmac.ts, @noble/hashes) counts for its caller: screen, context or experiments.
  ["context", /^src\/context\/(?!hmac\.ts$)|^src\/reset\/context\.ts$/],
  ["signals and rules", /^src\/scoring\/(signals|rules|ruleset)\/|^node_modules\/@bufbuild\/cel|^node_modules\/cel/],
  ["policy and decide", /^src\/scoring\/|^src\/reset\/decide\.ts$|^src\/captcha\//],
  ["response (act)", /^src\/reset\/act\.ts$|^src\/challenge\//],
  ["routing (match, Hono, entry)", /^src\/(app|index)\.ts$|^src\/reset\/(match|route)\.ts$|^src\/shared\/errors\.ts$|^node_modules\/hono\/|^bench-entry$/],
];
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNTIME = "runtime: native, event loop (no JS caller)";
const GC = "runtime: garbage collector";
const PROGRAM = "runtime: (program)";

/** Line → source file of a non-minified esbuild bundle, from its `// path` module markers. */
export function moduleMap(bundleText) {
  const starts = [];
  bundleText.split("\n").forEach((line, i) => {
    const m = /^\/\/ ((?:src|node_modules|\.\.\/)[^\s]*\.(?:ts|js|mjs|cjs|json))$/.exec(line);
    // A tree built elsewhere (--ref) names this checkout's node_modules by a relative path.
    if (m !== null) starts.push([i, m[1].replace(/^(\.\.\/)+/, "").replace(/^.*?\/node_modules\//, "node_modules/")]);
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid][0] <= line) {
        found = starts[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** µs per stage from a profile: each sample to the innermost frame whose file names a stage. */
export function attribute(profile, fileOf) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOfNode = new Map();
  const frameStage = (node) => {
    const f = node.callFrame;
    if (f.url.endsWith("/worker.js") || f.url === "worker.js") {
      const file = fileOf(f.lineNumber);
      if (file === null) return null;
      return STAGES.find(([, re, fn]) => re.test(file) && (fn === undefined || fn.test(f.functionName)))?.[0] ?? null;
    }
    if (/entry\.mjs$|store-entry/.test(f.url)) return "routing (match, Hono, entry)";
    return null;
  };
  const stageOf = (id) => {
    if (stageOfNode.has(id)) return stageOfNode.get(id);
    const node = nodes.get(id);
    const name = node.callFrame.functionName;
    let stage;
    if (name === "(idle)") stage = "idle";
    else if (name === "(garbage collector)") stage = GC;
    else if (name === "(program)") stage = PROGRAM;
    else stage = frameStage(node) ?? (parent.has(id) ? stageOf(parent.get(id)) : RUNTIME);
    if (stage === "idle" && name !== "(idle)") stage = RUNTIME;
    stageOfNode.set(id, stage);
    return stage;
  };
  const us = new Map();
  // Per stage, self time by function and file: where inside a stage to look.
  const byFunction = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  // timeDeltas[i] is the time before sample i; the sample stands for the interval after it.
  samples.forEach((id, i) => {
    const dt = timeDeltas[i + 1] ?? timeDeltas[i] ?? 0;
    const s = stageOf(id);
    us.set(s, (us.get(s) ?? 0) + dt);
    const f = nodes.get(id).callFrame;
    const where = f.url.endsWith("worker.js") ? (fileOf(f.lineNumber) ?? "?") : f.url.split("/").pop() || "native";
    const key = `${s}\t${f.functionName || "(anonymous)"} ${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
  });
  return Object.assign(us, { byFunction });
}

/** What to profile: a scenario id of bench/scenarios.mjs (b, c, d) or a riskgate worker name (the unique stream). */
export function profileTarget(which) {
  const scenario = SCENARIOS.find((s) => s.id === which);
  if (scenario !== undefined) return { name: scenario.worker, mode: scenario.requests };
  return { name: which, mode: "unique" };
}

async function profileWorker(name, seconds, bundle, mode = "unique") {
  const declared = WORKERS.find((w) => w.name === name);
  if (declared === undefined) throw new Error(`unknown worker ${name}`);
  const upstash = declared.requires === "upstash" ? await startUpstash({ cpu: 1 }) : null;
  if (upstash !== null && "skipped" in upstash) throw new Error(upstash.skipped);
  // One isolate, so that one profile holds the worker, the store and the audit hub (each
  // isolate's profiler also samples while the others run: three profiles summed to twice
  // workerd's CPU). STAGES_SPLIT=1: each Durable Object in its own isolate (the benchmark's default);
  // only the worker's isolate is profiled.
  const shared = { ...declared, splitDurableObjects: process.env.STAGES_SPLIT === "1" };
  const spec = upstash === null ? shared : { ...shared, bindings: { ...shared.bindings, ...upstash.bindings } };
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "riskgate-stages-"));
  const origin = await startBenchOrigin();
  const port = await freePort();
  const inspector = await freePort();
  const config = writeConfig(dir, [{ ...spec, bundle, port }], { originPort: origin.port, storageDir: join(dir, "do") });
  const workerd = await startWorkerd(config, [port], { cpu: 0, extraArgs: [`--inspector-addr=127.0.0.1:${inspector}`] });
  try {
    const load = (s, offset) => runLoad({ port, seconds: s, connections: 16, mode, offset, cpu: 1 });
    if (mode === "blocked") {
      const unblocked = await probeBlocked(port);
      if (unblocked !== null) throw new Error(unblocked);
    }
    await load(2, 2 ** 20);
    const session = await connect(inspector, name);
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 100 });
    const before = { cpu: cpuMicros(workerd.pid), wait: waitMicros(workerd.pid), handled: (await workerCounters(port)).requests };
    const heap = process.env.STAGES_HEAP === "1";
    if (heap) {
      await session.send("HeapProfiler.enable");
      // Every allocation sampled, including what the GC has already collected: where the garbage comes from.
      await session.send("HeapProfiler.startSampling", {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
    await session.send("Profiler.start");
    const result = await load(seconds, 2 ** 21 + (name === "riskgate-do" ? 2 ** 19 : 0));
    // Let the after-response work of the last requests (forward, record) finish inside the window.
    await new Promise((r) => setTimeout(r, 300));
    const { profile } = await session.send("Profiler.stop");
    const heapProfile = heap ? (await session.send("HeapProfiler.stopSampling")).profile : null;
    const after = { cpu: cpuMicros(workerd.pid), wait: waitMicros(workerd.pid), handled: (await workerCounters(port)).requests };
    session.close();
    const requests = after.handled - before.handled;
    return {
      profile,
      heapProfile,
      requests,
      rps: Math.round(result.requests / (result.duration_us / 1e6)),
      cpu_us_per_request: (after.cpu - before.cpu) / requests,
      wait_share: (after.wait - before.wait) / (profile.endTime - profile.startTime),
    };
  } finally {
    await workerd.stop();
    await origin.close();
    if (upstash !== null && "stop" in upstash) await upstash.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The stage table of one profiled run. */
export function stageTable(name, run, fileOf) {
  const us = attribute(run.profile, fileOf);
  us.delete("idle");
  const order = [...new Set(STAGES.map(([s]) => s)), PROGRAM, GC, RUNTIME];
  const rows = order.map((stage) => ({ stage, us_per_request: Math.round((us.get(stage) ?? 0) / run.requests) }));
  const total = rows.reduce((a, r) => a + r.us_per_request, 0);
  return {
    worker: name,
    ...(run.heapProfile == null ? {} : { allocations: allocationTable(run.heapProfile, run.requests, fileOf) }),
    requests: run.requests,
    rps: run.rps,
    wait_share: Number(run.wait_share.toFixed(3)),
    rows,
    profile_total_us: total,
    measured_cpu_us: Math.round(run.cpu_us_per_request),
    gap: Number((total / run.cpu_us_per_request - 1).toFixed(3)),
    top: [...us.byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(process.env.STAGES_TOP ?? 40))
      .map(([key, v]) => ({ stage: key.split("\t")[0], frame: key.split("\t")[1], us_per_request: Math.round(v / run.requests) })),
  };
}

/**
 * Bytes allocated per request by function (self), from a sampling heap profile that keeps
 * collected objects (STAGES_HEAP=1): where the garbage comes from.
 */
export function allocationTable(profile, requests, fileOf) {
  const bytes = new Map();
  let total = 0;
  const walk = (node, stack) => {
    const f = node.callFrame;
    const where = f.url.endsWith("worker.js") ? (fileOf(f.lineNumber) ?? "?") : f.url.split("/").pop() || "native";
    const frame = `${f.functionName || "(anonymous)"} ${where}`;
    const caller = stack.length > 0 ? stack[stack.length - 1] : "";
    const self = node.selfSize ?? 0;
    if (self > 0) {
      const key = `${frame} <- ${caller}`;
      bytes.set(key, (bytes.get(key) ?? 0) + self);
      total += self;
    }
    for (const c of node.children ?? []) walk(c, [...stack, frame]);
  };
  walk(profile.head, []);
  return {
    bytes_per_request: Math.round(total / requests),
    top: [...bytes]
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(process.env.STAGES_TOP ?? 40))
      .map(([frame, b]) => ({ frame, bytes_per_request: Math.round(b / requests) })),
  };
}

export function printTable(t) {
  const lines = [
    `${t.worker}: ${t.requests} requests (${t.rps} req/s, profiler attached; workerd waited for its core ${(100 * t.wait_share).toFixed(0)}% of the time)`,
    "| stage | µs/request | share |",
    "| --- | ---: | ---: |",
    ...t.rows.map((r) => `| ${r.stage} | ${r.us_per_request} | ${((100 * r.us_per_request) / t.profile_total_us).toFixed(1)}% |`),
    `| **sum of stages (profile)** | **${t.profile_total_us}** | |`,
    `| measured: workerd CPU (/proc utime+stime, all threads) | ${t.measured_cpu_us} | gap ${(100 * t.gap).toFixed(1)}% |`,
    "",
    "top frames by self time (stage: function file, µs/request):",
    ...t.top.filter((f) => f.stage !== "idle").map((f) => `  ${String(f.us_per_request).padStart(5)}  ${f.stage}: ${f.frame}`),
    ...(t.allocations === undefined
      ? []
      : [
          "",
          `allocations (sampled, collected included): ${t.allocations.bytes_per_request} bytes/request; top by self (function file <- caller):`,
          ...t.allocations.top.map((a) => `  ${String(a.bytes_per_request).padStart(7)}  ${a.frame}`),
        ]),
  ];
  return lines.join("\n");
}

/** A minimal CDP client over the inspector's WebSocket for the service `target`. */
async function connect(port, target) {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  // The service's own isolate first: split, `riskgate-do-store` also contains the name.
  const entry =
    list.find((t) => t.title === target || String(t.title).endsWith(` ${target}`) || t.id === target) ??
    list.find((t) => String(t.url).includes(target)) ??
    list[0];
  const ws = new WebSocket(entry.webSocketDebuggerUrl.replace("localhost", "127.0.0.1"));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const msg = JSON.parse(String(event.data));
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  };
  return {
    send: (method, params = {}) =>
      new Promise((resolve) => {
        id++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const refAt = argv.indexOf("--ref");
  const ref = refAt === -1 ? null : argv[refAt + 1];
  const args = argv.filter((a, i) => !a.startsWith("--") && (refAt === -1 || i !== refAt + 1));
  const json = argv.includes("--json");
  const [which = "both", secondsArg = "8"] = args;
  const targets = which === "both" ? [profileTarget("b"), profileTarget("c")] : [profileTarget(which)];
  const dir = mkdtempSync(join(tmpdir(), "riskgate-stages-bundle-"));
  const restorePriority = raisePriority();
  try {
    const bundle = ref === null ? bundleRiskgate(join(dir, "bundle")) : bundleRiskgateAt(ref, join(dir, "ref"));
    const fileOf = moduleMap(readFileSync(bundle, "utf8"));
    const tables = [];
    for (const { name, mode } of targets) {
      const label = mode === "unique" ? name : `${name} (${mode})`;
      const t = stageTable(label, await profileWorker(name, Number(secondsArg), bundle, mode), fileOf);
      tables.push(t);
      if (!json) console.log(`\n${printTable(t)}`);
    }
    const result = { at: new Date().toISOString(), ref, load_average: loadavg(), tables };
    // Kept beside the benchmark's experiments (profiles are large; the table is what matters).
    const out = join(ROOT, "bench", "results", "experiments", `${result.at.replace(/:/g, "-").replace(/\.\d+Z$/, "Z")}-stages${which === "both" ? "" : `-${which}`}${ref === null ? "" : `-at-${ref}`}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwritten to ${out}`);
    console.log(JSON.stringify(result));
  } finally {
    restorePriority();
    rmSync(dir, { recursive: true, force: true });
  }
}
