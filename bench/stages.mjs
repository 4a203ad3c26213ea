// Where every microsecond of a reset goes (BENCHMARKS.md, "Stage table"): V8 CPU
// profiles of riskgate under the benchmark's load, each sample attributed to a stage of
// the reset route by the source file (and for the store object, the function) of the
// innermost stack frame that belongs to one, set against workerd's own CPU time (/proc,
// per thread) over the same seconds.
//
//   node --experimental-websocket bench/stages.mjs [b|c|d|both|riskgate-upstash|riskgate-do] [seconds] [--json] [--ref <git ref>]
//   (b, c, d: the benchmark's scenarios; d floods the blocked identity until riskgate answers
//   429, then profiles the blocked stream: the refusal path of the screen stage)
//   (--ref: profile riskgate as committed at that ref, e.g. the table before a change)
//   (STAGES_TOP=n: how many frames to list by self time, 40 by default)
//   (STAGES_HEAP=1: also a sampling heap profile of each isolate over the same seconds,
//   collected objects included, listed as bytes allocated per request by function and caller)
//   (STAGES_SPLIT=0: the Durable Objects in the worker's isolate, one profile: the layout
//   before 2026-12-03; by default each runs in an isolate of its own, as on Cloudflare and
//   as the benchmark hosts them, and every isolate is profiled)
//   (STAGES_INTERVAL=µs: V8's sampling interval, 100; STAGES_MAX_GAP=µs: count at most this
//   much of an interval between two samples, the rest as a row of its own; no cap by default)
//   (STAGES_PROFILES=dir: keep the raw .cpuprofile files and the bundle, to dig)
//
// workerd runs every isolate on its one main thread. Split, the worker's, the store
// object's and the audit hub's isolates each have a profiler; a profiler samples only
// while its isolate runs, so the three profiles' samples are merged on their common clock
// and each stands for the time until the next sample of any of them (attributeIsolates).
// Stages come from the bundle's module markers (wrangler's esbuild writes `// src/x.ts`
// before each module), so a function moving between files moves its samples with it.
// A sample whose stack holds no stage file is the runtime's own, per isolate: "(program)"
// (native work outside JS: HTTP, sockets, the RPC between isolates, the event loop),
// "(garbage collector)", and native frames with no JS caller. Samples are 100 µs apart
// (wall time while the thread runs); "(idle)" is excluded. V8's sampling threads (one per
// profiler, "v8:ProfEvntProc") are moved to the load's core and their CPU is a measured row
// of its own: the check is the sum of the stages plus those threads against workerd's CPU,
// all threads.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleRiskgate, bundleRiskgateAt } from "./build.mjs";
import { cpuMicros, raisePriority, threadCpuMicros } from "./cpu.mjs";
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
/** Time between samples beyond `maxGap` (attributeIsolates): no isolate was sampled. */
const GAP = "runtime: between samples (outside every isolate, or preempted)";

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

/**
 * Stages of the store object's own isolate (split layout): the object's work by function,
 * first match wins, innermost stage frame first, as for `STAGES`. Its callees in
 * src/store (window.ts, counter-slot.ts, penalty.ts, ephemeral.ts, key-filter.ts) are
 * matched by file where a whole file belongs to one stage.
 */
export const STORE_STAGES = [
  [
    "store object: lookups (slots, find, keep, drop)",
    /^src\/store\/(durable-object|counter-slot)\.ts$/,
    /^(find|findRow|keep|touch|drop|hashChars|rowKeyHash|slotOf|isRowKey)$/,
  ],
  [
    "store object: flush, sweep, eviction (SQLite, alarm)",
    /^src\/store\/durable-object\.ts$/,
    /^(alarm|flush|insertRows|deleteRows|sweep|evict|evictEntry|rowCount|pending|scheduleFlush|scheduleSweep|scheduleAlarm)$/,
  ],
  ["store object: history and roster (SQL reads, filters)", /^src\/store\/key-filter\.ts$/],
  [
    "store object: history and roster (SQL reads, filters)",
    /^src\/store\/durable-object\.ts$/,
    /^(readHistory|readRoster|recordHistory|recordTag|updateRoster|readRosterMarker)$/,
  ],
  ["store object: ladders and penalties", /^src\/store\/(penalty|ephemeral)\.ts$/],
  ["store object: ladders and penalties", /^src\/store\/window\.ts$/, /^rateLimit/],
  ["store object: ladders and penalties", /^src\/store\/durable-object\.ts$/, /^(limit|storedPenalty|penalize|liftPenalty)$/],
  ["store object: counters (windows, distinct sets)", /^src\/store\/window\.ts$/],
  [
    "store object: counters (windows, distinct sets)",
    /^src\/store\/durable-object\.ts$/,
    /^(hit|increment|count|place|add|changed|memberCount|hasMember|withMember|withId)$/,
  ],
  // The rest of the object (observe's loop and answer, the constructor's load, tallies), and
  // the hosting service's entry (the bench's counting subclass): the RPC's entry.
  ["store object: RPC entry (observe, the answer, the rest)", /^src\/store\//],
];

/** Stages of the audit hub's isolate (split layout). */
export const HUB_STAGES = [["audit hub: ingest, metrics, sweep (src/audit/hub and callees)", /^src\/audit\//]];

/** The isolates of the split layout, by the inspector target's service name suffix. */
export const ISOLATES = {
  worker: { label: "worker", stages: STAGES, entry: "routing (match, Hono, entry)" },
  store: { label: "store object", stages: STORE_STAGES, entry: "store object: RPC entry (observe, the answer, the rest)" },
  audit: { label: "audit hub", stages: HUB_STAGES, entry: "audit hub: ingest, metrics, sweep (src/audit/hub and callees)" },
};

/** The runtime's rows of an isolate (samples with no stage file on their stack). */
export function runtimeRows(isolate) {
  const prefix = isolate === "worker" ? "" : `${ISOLATES[isolate].label} `;
  return { program: `${prefix}${PROGRAM}`, gc: `${prefix}${GC}`, native: `${prefix}${RUNTIME}` };
}

/**
 * µs per stage from one or more profiles of isolates on the same thread (workerd runs
 * every isolate on its one main thread): each sample to the innermost frame whose file
 * names a stage of its isolate. The samples of all profiles are merged on their common
 * clock (V8's monotonic ticks, µs), and each stands for the time until the next sample of
 * any profile, so an interval is counted once however many isolates are profiled. An
 * interval longer than `maxGap` µs (the thread was preempted, or ran outside every
 * isolate: workerd's event loop, HTTP, the RPC between isolates, with no profile to
 * sample) is counted up to `maxGap` for its sample and the rest goes to `GAP`.
 * @param {{ isolate: keyof ISOLATES, profile: any }[]} parts
 */
export function attributeIsolates(parts, fileOf, { maxGap = Number.POSITIVE_INFINITY } = {}) {
  const samples = [];
  const stageFns = [];
  parts.forEach(({ isolate, profile }, p) => {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const { stages, entry } = ISOLATES[isolate];
    const rows = runtimeRows(isolate);
    const stageOfNode = new Map();
    const frameStage = (node) => {
      const f = node.callFrame;
      if (f.url.endsWith("/worker.js") || f.url === "worker.js") {
        const file = fileOf(f.lineNumber);
        if (file === null) return null;
        return stages.find(([, re, fn]) => re.test(file) && (fn === undefined || fn.test(f.functionName)))?.[0] ?? null;
      }
      if (/entry\.mjs$|store-entry/.test(f.url)) return entry;
      return null;
    };
    const stageOf = (id) => {
      if (stageOfNode.has(id)) return stageOfNode.get(id);
      const node = nodes.get(id);
      const name = node.callFrame.functionName;
      let stage;
      if (name === "(idle)") stage = "idle";
      else if (name === "(garbage collector)") stage = rows.gc;
      else if (name === "(program)") stage = rows.program;
      else stage = frameStage(node) ?? (parent.has(id) ? stageOf(parent.get(id)) : rows.native);
      if (stage === "idle" && name !== "(idle)") stage = rows.native;
      stageOfNode.set(id, stage);
      return stage;
    };
    const where = (id) => {
      const f = nodes.get(id).callFrame;
      const file = f.url.endsWith("worker.js") ? (fileOf(f.lineNumber) ?? "?") : f.url.split("/").pop() || "native";
      return `${f.functionName || "(anonymous)"} ${file}`;
    };
    stageFns.push({ stageOf, where, isolate });
    let t = profile.startTime;
    const { samples: ids = [], timeDeltas = [] } = profile;
    ids.forEach((id, i) => {
      t += timeDeltas[i] ?? 0;
      samples.push({ t, id, p });
    });
    samples.push({ t: profile.endTime, id: null, p });
  });
  // Stable: samples of one profile keep their order when their ticks are equal.
  samples.sort((a, b) => a.t - b.t);
  const us = new Map();
  const byFunction = new Map();
  const byIsolate = new Map();
  let gap = 0;
  // The window every profile covers: from the last start to the first end.
  const start = Math.max(...parts.map(({ profile }) => profile.startTime));
  const end = Math.min(...parts.map(({ profile }) => profile.endTime));
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (s.id === null || s.t >= end) continue;
    // The interval until the next sample of any profile (or the first profile's end).
    let next = end;
    for (let j = i + 1; j < samples.length; j++) {
      if (samples[j].id !== null || samples[j].t >= end) {
        next = Math.min(samples[j].t, end);
        break;
      }
    }
    if (next <= start) continue;
    const dt = next - Math.max(s.t, start);
    const counted = Math.min(dt, maxGap);
    const { stageOf, where, isolate } = stageFns[s.p];
    const stage = stageOf(s.id);
    if (stage === "idle") {
      us.set("idle", (us.get("idle") ?? 0) + dt);
      continue;
    }
    gap += dt - counted;
    us.set(stage, (us.get(stage) ?? 0) + counted);
    byIsolate.set(isolate, (byIsolate.get(isolate) ?? 0) + counted);
    const key = `${stage}\t${where(s.id)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + counted);
  }
  if (gap > 0) us.set(GAP, gap);
  return Object.assign(us, { byFunction, byIsolate, window_us: Math.max(0, end - start) });
}

/** µs per stage from a profile of one isolate (the shared layout: worker, store and hub in one). */
export function attribute(profile, fileOf) {
  return attributeIsolates([{ isolate: "worker", profile }], fileOf);
}

/** What to profile: a scenario id of bench/scenarios.mjs (b, c, d) or a riskgate worker name (the unique stream). */
export function profileTarget(which) {
  const scenario = SCENARIOS.find((s) => s.id === which);
  if (scenario !== undefined) return { name: scenario.worker, mode: scenario.requests };
  return { name: which, mode: "unique" };
}

/**
 * An interval between two samples longer than this (µs) counts this much for its sample;
 * the rest is `GAP` (STAGES_MAX_GAP; default: no cap).
 */
const MAX_GAP = Number(process.env.STAGES_MAX_GAP ?? Number.POSITIVE_INFINITY);

/** Whether the Durable Objects run in isolates of their own (the benchmark's default); STAGES_SPLIT=0: in the worker's. */
export const SPLIT = process.env.STAGES_SPLIT !== "0";

/** V8's sampling interval, µs (STAGES_INTERVAL). */
const INTERVAL = Number(process.env.STAGES_INTERVAL ?? 100);

/** Per-thread CPU between two `threadCpuMicros` reads, summed by thread name (threads started between them count from zero). */
export function threadDeltas(before, after) {
  const byName = new Map();
  for (const [tid, { name, us }] of after) byName.set(name, (byName.get(name) ?? 0) + us - (before.get(tid)?.us ?? 0));
  return byName;
}

/** The name V8 gives its CPU profiler's sampling thread (one per profiled isolate). */
const PROFILER_THREAD = "v8:ProfEvntProc";

/** The core V8's sampling threads run on (the load's; workerd's main thread has core 0). */
const PROFILER_CPU = Number(process.env.STAGES_PROFILER_CPU ?? 1);

/** Pin every thread of `pid` named `name` to `cpu` (taskset); how many were pinned. */
export function pinThreads(pid, name, cpu) {
  let pinned = 0;
  for (const [tid, thread] of threadCpuMicros(pid)) {
    if (thread.name !== name) continue;
    execFileSync("taskset", ["-p", "-c", String(cpu), tid], { stdio: "ignore" });
    pinned++;
  }
  return pinned;
}

/** Time the main thread of `pid` (workerd's event loop, where every isolate runs) waited for its core, µs. */
function mainWaitMicros(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[1] ?? 0) / 1000;
  } catch {
    return 0;
  }
}

async function profileWorker(name, seconds, bundle, mode = "unique") {
  const declared = WORKERS.find((w) => w.name === name);
  if (declared === undefined) throw new Error(`unknown worker ${name}`);
  const upstash = declared.requires === "upstash" ? await startUpstash({ cpu: 1 }) : null;
  if (upstash !== null && "skipped" in upstash) throw new Error(upstash.skipped);
  // Split (the default, as the benchmark and Cloudflare host them): the worker, the store
  // object and the audit hub are three isolates, three inspector targets, all on workerd's
  // one main thread; each is profiled, and their samples are merged on the one clock
  // (attributeIsolates). STAGES_SPLIT=0: one isolate holds all three (the layout before
  // 2026-12-03), one profile.
  const shared = { ...declared, splitDurableObjects: SPLIT };
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
    // The warm-up also makes the store object and the hub exist (their isolates' targets).
    await load(2, 2 ** 20);
    const sessions = await connectIsolates(inspector, name, SPLIT);
    for (const { session } of sessions) {
      await session.send("Profiler.enable");
      await session.send("Profiler.setSamplingInterval", { interval: INTERVAL });
    }
    const heap = process.env.STAGES_HEAP === "1";
    if (heap) {
      for (const { session } of sessions) {
        await session.send("HeapProfiler.enable");
        // Every allocation sampled, including what the GC has already collected: where the garbage comes from.
        await session.send("HeapProfiler.startSampling", {
          samplingInterval: 4096,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
      }
    }
    const before = { handled: (await workerCounters(port)).requests, cpu: cpuMicros(workerd.pid), wait: mainWaitMicros(workerd.pid), threads: threadCpuMicros(workerd.pid) };
    for (const { session } of sessions) await session.send("Profiler.start");
    // V8 starts a sampling thread per profiler, inside workerd and so pinned to its core: there
    // they took the core from the main thread between samples (the samples' intervals, which
    // are wall time, then held the profiler's own CPU as well) and, starved themselves,
    // sampled every ~250 µs instead of 100. They run on the load's core instead (STAGES_PROFILER_CPU).
    pinThreads(workerd.pid, PROFILER_THREAD, PROFILER_CPU);
    const result = await load(seconds, 2 ** 21 + (name === "riskgate-do" ? 2 ** 19 : 0));
    // Let the after-response work of the last requests (forward, record) finish inside the window.
    await new Promise((r) => setTimeout(r, 300));
    // Read before the profilers stop: a stopped profiler's thread exits (and leaves /proc's
    // task list), and building the profiles is CPU no sample shows.
    const handled = (await workerCounters(port)).requests;
    const after = { cpu: cpuMicros(workerd.pid), wait: mainWaitMicros(workerd.pid), threads: threadCpuMicros(workerd.pid) };
    const profiles = [];
    for (const { isolate, session } of sessions) profiles.push({ isolate, profile: (await session.send("Profiler.stop")).profile });
    const heapProfiles = [];
    if (heap) for (const { isolate, session } of sessions) heapProfiles.push({ isolate, profile: (await session.send("HeapProfiler.stopSampling")).profile });
    for (const { session } of sessions) session.close();
    const requests = handled - before.handled;
    const threads = threadDeltas(before.threads, after.threads);
    const window = Math.min(...profiles.map(({ profile }) => profile.endTime)) - Math.max(...profiles.map(({ profile }) => profile.startTime));
    return {
      profiles,
      heapProfiles,
      requests,
      rps: Math.round(result.requests / (result.duration_us / 1e6)),
      cpu_us_per_request: (after.cpu - before.cpu) / requests,
      threads_us_per_request: Object.fromEntries([...threads].map(([n, us]) => [n, us / requests])),
      profiler_us_per_request: (threads.get(PROFILER_THREAD) ?? 0) / requests,
      wait_share: (after.wait - before.wait) / window,
      // The main thread (tid = pid: workerd's event loop, where every isolate runs) over the
      // same seconds: CPU, time waiting for its core, and the rest of the window, idle.
      main: {
        cpu_us: (after.threads.get(String(workerd.pid))?.us ?? 0) - (before.threads.get(String(workerd.pid))?.us ?? 0),
        wait_us: after.wait - before.wait,
        window_us: window,
      },
    };
  } finally {
    await workerd.stop();
    await origin.close();
    if (upstash !== null && "stop" in upstash) await upstash.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table's rows in order: each isolate's stages, then its runtime rows; the gap last. */
export function rowOrder(isolates) {
  const rows = [];
  for (const isolate of isolates) {
    const r = runtimeRows(isolate);
    rows.push(...new Set(ISOLATES[isolate].stages.map(([stage]) => stage)), r.program, r.gc, r.native);
  }
  return [...new Set(rows), GAP];
}

/** The stage table of one profiled run. */
export function stageTable(name, run, fileOf, { maxGap = MAX_GAP } = {}) {
  const us = attributeIsolates(run.profiles, fileOf, { maxGap });
  const isolates = run.profiles.map(({ isolate }) => isolate);
  const rows = rowOrder(isolates).map((stage) => ({ stage, us_per_request: Math.round((us.get(stage) ?? 0) / run.requests) }));
  const total = rows.reduce((a, r) => a + r.us_per_request, 0);
  const profiler = Math.round(run.profiler_us_per_request ?? 0);
  // "(idle)" samples: the sampled isolate ran no JS. On a saturated core that is workerd's
  // own work outside every isolate's JS (the event loop: HTTP, the RPC between isolates,
  // timers), not idleness: the main thread was busy or waiting for its core. What of it was
  // truly idle is the window less the main thread's CPU and wait (derived, approximate).
  const main = run.main === undefined ? null : {
    cpu_us: Math.round(run.main.cpu_us / run.requests),
    wait_us: Math.round(run.main.wait_us / run.requests),
    idle_us: Math.round(Math.max(0, run.main.window_us - run.main.cpu_us - run.main.wait_us) / run.requests),
  };
  const idle = Math.round((us.get("idle") ?? 0) / run.requests);
  const measured = Math.round(run.cpu_us_per_request);
  return {
    worker: name,
    layout: isolates.length > 1 ? "split" : "shared",
    ...(run.heapProfiles == null || run.heapProfiles.length === 0
      ? {}
      : { allocations: Object.fromEntries(run.heapProfiles.map(({ isolate, profile }) => [isolate, allocationTable(profile, run.requests, fileOf)])) }),
    requests: run.requests,
    rps: run.rps,
    wait_share: Number(run.wait_share.toFixed(3)),
    rows,
    isolates: Object.fromEntries(isolates.map((i) => [i, Math.round((us.byIsolate.get(i) ?? 0) / run.requests)])),
    profile_total_us: total,
    idle_samples_us: idle,
    main_thread: main,
    // V8's sampling threads: CPU of workerd that no sample can show.
    profiler_thread_us: profiler,
    threads_us: Object.fromEntries(Object.entries(run.threads_us_per_request ?? {}).map(([n, v]) => [n, Math.round(v)])),
    measured_cpu_us: measured,
    // Like for like: the stages and the profiler's threads against all of workerd's threads.
    gap: Number(((total + profiler) / run.cpu_us_per_request - 1).toFixed(3)),
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
  const share = (us) => `${((100 * us) / t.profile_total_us).toFixed(1)}%`;
  const ofMeasured = (us) => `${((100 * us) / t.measured_cpu_us).toFixed(1)}% of measured`;
  const other = Object.entries(t.threads_us ?? {}).filter(([n]) => n !== PROFILER_THREAD);
  const lines = [
    `${t.worker} (${t.layout} layout): ${t.requests} requests (${t.rps} req/s, profiler attached; workerd's main thread waited for its core ${(100 * t.wait_share).toFixed(0)}% of the time)`,
    "| stage | µs/request | share of the stages |",
    "| --- | ---: | ---: |",
    ...t.rows.map((r) => `| ${r.stage} | ${r.us_per_request} | ${share(r.us_per_request)} |`),
    ...(t.layout === "split" ? Object.entries(t.isolates).map(([i, us]) => `| *of which the ${ISOLATES[i].label}'s isolate* | *${us}* | *${share(us)}* |`) : []),
    `| **sum of stages (profile)** | **${t.profile_total_us}** | ${ofMeasured(t.profile_total_us)} |`,
    `| measured: V8 profiler threads (${PROFILER_THREAD}, /proc), no samples | ${t.profiler_thread_us} | ${ofMeasured(t.profiler_thread_us)} |`,
    `| **stages + profiler threads** | **${t.profile_total_us + t.profiler_thread_us}** | |`,
    `| measured: workerd CPU (/proc utime+stime, all threads; ${other.map(([n, us]) => `${n} ${us}`).join(", ")}) | ${t.measured_cpu_us} | gap ${(100 * t.gap).toFixed(1)}% |`,
    "",
    "| not in the stages | µs/request | |",
    "| --- | ---: | --- |",
    `| (idle) samples: no JS running in the sampled isolate (workerd's event loop: HTTP, the RPC between isolates; or truly idle) | ${t.idle_samples_us} | |`,
    ...(t.main_thread === null || t.main_thread === undefined
      ? []
      : [
          `| measured: main thread CPU (/proc, tid = pid) | ${t.main_thread.cpu_us} | stages ${t.profile_total_us}: ${((100 * t.profile_total_us) / t.main_thread.cpu_us - 100).toFixed(1)}% |`,
          `| measured: main thread waiting for its core (schedstat) | ${t.main_thread.wait_us} | |`,
          `| derived: main thread idle (window − CPU − wait) | ${t.main_thread.idle_us} | so ~${Math.max(0, t.idle_samples_us - t.main_thread.idle_us)} of the (idle) samples were busy outside JS |`,
        ]),
    "",
    "top frames by self time (stage: function file, µs/request):",
    ...t.top.filter((f) => f.stage !== "idle").map((f) => `  ${String(f.us_per_request).padStart(5)}  ${f.stage}: ${f.frame}`),
    ...Object.entries(t.allocations ?? {}).flatMap(([isolate, a]) => [
      "",
      `allocations in the ${ISOLATES[isolate].label}'s isolate (sampled, collected included): ${a.bytes_per_request} bytes/request; top by self (function file <- caller):`,
      ...a.top.map((x) => `  ${String(x.bytes_per_request).padStart(7)}  ${x.frame}`),
    ]),
  ];
  return lines.join("\n");
}

/**
 * A CDP session per isolate to profile: split, the worker's and each Durable Object's
 * service (`<name>`, `<name>-store`, `<name>-audit`: workerd's inspector has one target per
 * service, titled "workerd: worker <service>"); shared, the worker's alone.
 */
async function connectIsolates(port, name, split) {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const service = (t) => String(t.title).replace(/^workerd: worker /, "");
  const wanted = split ? [["worker", name], ["store", `${name}-store`], ["audit", `${name}-audit`]] : [["worker", name]];
  const sessions = [];
  for (const [isolate, svc] of wanted) {
    const target = list.find((t) => service(t) === svc || t.id === svc);
    // A tree from before the audit hub (--ref) has no hub service: its isolate is not there to profile.
    if (target === undefined && isolate === "audit") continue;
    if (target === undefined) throw new Error(`no inspector target for ${svc} (targets: ${list.map(service).join(", ")})`);
    sessions.push({ isolate, session: await connect(target.webSocketDebuggerUrl.replace("localhost", "127.0.0.1")) });
  }
  return sessions;
}

/** A minimal CDP client over an inspector WebSocket. */
async function connect(url) {
  const ws = new WebSocket(url);
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
      const run = await profileWorker(name, Number(secondsArg), bundle, mode);
      const t = stageTable(label, run, fileOf);
      // STAGES_PROFILES=<dir>: keep the raw profiles (tens of MB) and the bundle's module map, to dig.
      if (process.env.STAGES_PROFILES) {
        mkdirSync(process.env.STAGES_PROFILES, { recursive: true });
        for (const { isolate, profile } of run.profiles) writeFileSync(join(process.env.STAGES_PROFILES, `${name}-${isolate}.cpuprofile`), JSON.stringify(profile));
        writeFileSync(join(process.env.STAGES_PROFILES, `${name}-bundle.js`), readFileSync(bundle));
      }
      tables.push(t);
      if (!json) console.log(`\n${printTable(t)}`);
    }
    const result = { at: new Date().toISOString(), ref, load_average: loadavg(), tables };
    // Kept beside the benchmark's experiments (profiles are large; the table is what matters).
    const out = join(ROOT, "bench", "results", "experiments", `${result.at.replace(/:/g, "-").replace(/\.\d+Z$/, "Z")}-stages${which === "both" ? "" : `-${which}`}${SPLIT ? "" : "-shared"}${ref === null ? "" : `-at-${ref}`}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwritten to ${out}`);
    console.log(JSON.stringify(result));
  } finally {
    restorePriority();
    rmSync(dir, { recursive: true, force: true });
  }
}
