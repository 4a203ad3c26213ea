// The audit hub's ingest cost (BENCHMARKS.md, "The audit hub's ingest"): workerd CPU per
// event of one hub shard (the real RiskgateAuditHub under Miniflare, bench/workers/hub-ingest.ts),
// fed flushes of allowed resets' events (decision + forward) from inside workerd, 40 flushes
// per call; the same calls building the events without sending them are subtracted. Cases:
//   below cap: a fresh shard (50,000-row cap, not reached here);
//   at cap:    a shard filled to a lowered cap first, so every flush also evicts (the steady
//              state of a deployment under load).
// With --ref, the same worker runs against the hub as committed at <ref> in a second workerd,
// and rounds alternate between the two (tree, ref; then ref, tree; ...) under the same load.
//
//   node bench/hub-ingest.mjs [--ref <git ref>[,<git ref>...]] [--rounds 4] [--seconds 3] [--requests 1,25] [--cap 5000]
// --ids v7 (v7all): the events' ids (and decision ids) time-ordered UUIDv7 instead of random;
// a list gives each side its own (tree first, then the refs; the last repeats): --ref main --ids v7,v4
// measures the tree with the ids its gateway makes against main with the ids main's gateway made.
// --deliver webhook: every event queued in the outbox too (a deployment with AUDIT_WEBHOOK_URL).
//   node --experimental-websocket bench/hub-ingest.mjs --profile [--seconds 6] [--requests 25,100]
//     (--profile: no rounds; a V8 CPU profile through workerd's inspector over the below-cap
//     case of each batch size, its frames listed by self time in µs per event, each with the
//     source file the bundle's module markers name; the event building is in it, labelled)
//
// Results go to bench/results/experiments/<time>-hub-ingest[-vs-<ref>].json.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { freePort } from "./upstash.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: opts } = parseArgs({
  options: {
    ref: { type: "string" },
    rounds: { type: "string", default: "4" },
    seconds: { type: "string", default: "3" },
    requests: { type: "string", default: "1,25" },
    cap: { type: "string", default: "5000" },
    profile: { type: "boolean", default: false },
    top: { type: "string", default: "40" },
    ids: { type: "string", default: "v4" },
    deliver: { type: "string", default: "" },
  },
});

const WORKER = join(ROOT, "bench", "workers", "hub-ingest.ts");
const FLUSHES_PER_CALL = 40;

/** This checkout's bench worker over the hub of the tree at `root`, bundled as bench/build.mjs bundles baselines. */
async function bundleWorker(root, dir) {
  const outfile = join(dir, "hub-ingest.js");
  // A ref's tree gets this checkout's worker (it may predate it); its imports resolve in that tree.
  const entry = root === ROOT ? WORKER : join(root, "bench", "workers", "hub-ingest.ts");
  if (root !== ROOT) copyFileSync(WORKER, entry);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "error",
  });
  return outfile;
}

/** The committed tree at `ref`, exported with git archive (the repository is not touched). */
function treeAt(ref, dir) {
  const tree = join(dir, "tree");
  mkdirSync(tree, { recursive: true });
  execFileSync("tar", ["-x", "-C", tree], { input: execFileSync("git", ["archive", "--format=tar", ref], { cwd: ROOT, maxBuffer: 256 * 2 ** 20 }) });
  symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
  return tree;
}

/** workerd processes that are children of this process. */
function workerdChildren() {
  const pids = new Set();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [, comm = "", rest = ""] = /^\d+ \((.*)\) (.*)$/s.exec(readFileSync(`/proc/${entry}/stat`, "utf8")) ?? [];
      if (comm.includes("workerd") && Number(rest.split(" ")[1]) === process.pid) pids.add(Number(entry));
    } catch {
      // Gone between readdir and read.
    }
  }
  return pids;
}

/** CPU µs (user + system, all threads) of a process. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

async function post(url) {
  const res = await fetch(url, { method: "POST" });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function start(label, bundle, dir, inspectorPort) {
  const before = workerdChildren();
  const mf = new Miniflare({
    ...(inspectorPort === undefined ? {} : { inspectorPort }),
    modules: true,
    scriptPath: bundle,
    modulesRoot: dir,
    compatibilityDate: "2026-04-20",
    durableObjects: { RISKGATE_AUDIT: { className: "RiskgateAuditHub", useSQLite: true } },
    bindings: { RISKGATE_ENV: "development" },
    host: "127.0.0.1",
    port: 0,
  });
  const base = (await mf.ready).toString().replace(/\/$/, "");
  const pid = [...workerdChildren()].find((p) => !before.has(p));
  if (pid === undefined) throw new Error(`${label}: workerd not found`);
  return { label, mf, base, pid, seq: 1, bundle, inspectorPort, ids: "v4" };
}

/** Sequential calls for `seconds`: workerd CPU µs per call. */
async function drive(side, seconds, once) {
  const cpu0 = cpuMicros(side.pid);
  const until = performance.now() + seconds * 1000;
  let calls = 0;
  while (performance.now() < until) {
    await once();
    calls++;
  }
  return { calls, cpuUsPerCall: (cpuMicros(side.pid) - cpu0) / calls };
}

/** One call: FLUSHES_PER_CALL flushes of `requests` requests' events to `shard` (dry: built, not sent). */
async function flushes(side, shard, requests, dry = false) {
  const res = await post(`${side.base}/ingest?shard=${shard}&requests=${requests}&flushes=${FLUSHES_PER_CALL}&seq=${side.seq}&ids=${side.ids}${opts.deliver === "" ? "" : `&deliver=${opts.deliver}`}${dry ? "&dry=1" : ""}`);
  side.seq = res.seq;
}

/** One round of every case on one side: µs per event, building the events subtracted. */
async function round(side, r, seconds, perFlush, cap) {
  const out = { cases: [] };
  for (const requests of perFlush) {
    const events = 2 * requests * FLUSHES_PER_CALL;
    const dry = await drive(side, seconds / 2, () => flushes(side, "dry", requests, true));
    const below = await drive(side, seconds, () => flushes(side, `fresh-${requests}-${r}`, requests));
    const full = `cap-${requests}-${r}`;
    await post(`${side.base}/cap?shard=${full}&cap=${cap}`);
    for (let n = 0; n < cap; n += events) await flushes(side, full, requests);
    const atCap = await drive(side, seconds, () => flushes(side, full, requests));
    const perEvent = (d) => Math.round((d.cpuUsPerCall - dry.cpuUsPerCall) / events);
    out.cases.push(
      { case: "below cap", requestsPerFlush: requests, calls: below.calls, buildUsPerEvent: Math.round(dry.cpuUsPerCall / events), usPerEvent: perEvent(below) },
      { case: "at cap", requestsPerFlush: requests, calls: atCap.calls, usPerEvent: perEvent(atCap) },
    );
  }
  return out;
}

/** A minimal CDP client over the inspector's WebSocket (the worker's isolate: the hub runs in it under Miniflare). */
async function cdp(port) {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const entry = list.find((t) => !String(t.title).includes("miniflare") && !String(t.title).includes("loopback")) ?? list[0];
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
    title: entry.title,
    send: (method, params = {}) =>
      new Promise((resolve) => {
        id++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Line of the bundle → source file, from esbuild's module markers (`// src/x.ts`, `// bench/workers/x.ts`). */
function moduleMap(bundleText) {
  const starts = [];
  bundleText.split("\n").forEach((line, i) => {
    const m = /^\/\/ ((?:src|bench|node_modules|\.\.\/)[^\s]*\.(?:ts|js|mjs|cjs|json))$/.exec(line);
    // A ref's tree is bundled from a temporary directory: its files are named from their src/ or bench/ on.
    if (m !== null) starts.push([i, m[1].replace(/^(\.\.\/)+/, "").replace(/^.*?\/node_modules\//, "node_modules/").replace(/^.*?\/tree\/(src|bench)\//, "$1/")]);
  });
  return (line) => {
    let found = null;
    for (const [start, file] of starts) {
      if (start > line) break;
      found = file;
    }
    return found;
  };
}

/** Profile the below-cap case of one batch size: frames by self time, per event. */
async function profileCase(side, requests, seconds, top) {
  const fileOf = moduleMap(readFileSync(side.bundle, "utf8"));
  const session = await cdp(side.inspectorPort);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 100 });
  await session.send("Profiler.start");
  const run = await drive(side, seconds, () => flushes(side, `profile-${requests}`, requests));
  const { profile } = await session.send("Profiler.stop");
  session.close();
  const events = run.calls * 2 * requests * FLUSHES_PER_CALL;
  const self = new Map();
  profile.samples.forEach((nodeId, i) => {
    self.set(nodeId, (self.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fileOfNode = (n) => (n.callFrame.url === "" ? null : fileOf(n.callFrame.lineNumber) ?? "bundle");
  const label = (n) => `${n.callFrame.functionName || "(anonymous)"} ${fileOfNode(n) ?? "(native)"}`;
  const selfBy = new Map();
  const fileBy = new Map();
  const inclusiveBy = new Map();
  let total = 0;
  for (const n of profile.nodes) {
    const us = self.get(n.id) ?? 0;
    if (us === 0 || n.callFrame.functionName === "(idle)") continue;
    total += us;
    // A native frame (SQLite's exec, JSON, the RPC) is named with its caller.
    const callerNode = n.callFrame.url === "" ? nodes.get(parent.get(n.id)) : undefined;
    const key = callerNode === undefined ? label(n) : `${label(n)} <- ${label(callerNode)}`;
    selfBy.set(key, (selfBy.get(key) ?? 0) + us);
    // By file: the innermost frame with a file.
    let file = "(runtime: no JS caller)";
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const f = fileOfNode(nodes.get(id));
      if (f !== null) {
        file = f;
        break;
      }
    }
    fileBy.set(file, (fileBy.get(file) ?? 0) + us);
    const seen = new Set();
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const k = label(nodes.get(id));
      if (seen.has(k)) continue;
      seen.add(k);
      inclusiveBy.set(k, (inclusiveBy.get(k) ?? 0) + us);
    }
  }
  const per = (us) => Math.round((10 * us) / events) / 10;
  const sorted = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  return {
    side: side.label,
    target: session.title,
    requestsPerFlush: requests,
    events,
    cpuUsPerEvent: per(run.cpuUsPerCall * run.calls),
    profiledUsPerEvent: per(total),
    byFile: sorted(fileBy, 30).map(([file, us]) => ({ file, us: per(us) })),
    top: sorted(selfBy, top).map(([frame, us]) => ({ frame, us: per(us) })),
    inclusive: sorted(inclusiveBy, top).map(([frame, us]) => ({ frame, us: per(us) })),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor((s.length - 1) / 2)] + (s.length % 2 === 0 ? (s[s.length / 2] - s[s.length / 2 - 1]) / 2 : 0);
};

const dir = mkdtempSync(join(tmpdir(), "riskgate-hub-ingest-"));
const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "bench/workers/hub-ingest.ts"], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
mkdirSync(join(dir, "tree-bundle"));
const inspect = async () => (opts.profile ? await freePort() : undefined);
const sides = [await start(`tree (${head}${dirty ? ", uncommitted changes" : ""})`, await bundleWorker(ROOT, join(dir, "tree-bundle")), join(dir, "tree-bundle"), await inspect())];
// --ref a,b: one side per ref (ablations: scratch commits measured against the tree in the same rounds).
for (const [i, ref] of (opts.ref?.split(",") ?? []).entries()) {
  const at = join(dir, `ref-${i}`);
  mkdirSync(join(at, "bundle"), { recursive: true });
  sides.push(await start(`ref ${ref}`, await bundleWorker(treeAt(ref, at), join(at, "bundle")), join(at, "bundle"), await inspect()));
}
const idModes = opts.ids.split(",");
sides.forEach((side, i) => {
  side.ids = idModes[Math.min(i, idModes.length - 1)];
  if (side.ids !== "v4") side.label += `, ${side.ids} ids`;
});
const perFlush = opts.requests.split(",").map(Number);
const rounds = [];
if (opts.profile) {
  const profiles = [];
  try {
    for (const side of sides) {
      for (const requests of perFlush) await drive(side, 2, () => flushes(side, `warm-${requests}`, requests));
      for (const requests of perFlush) {
        const p = await profileCase(side, requests, Number(opts.seconds), Number(opts.top));
        profiles.push(p);
        console.log(`\n${side.label}, below cap, ${requests} req/flush: ${p.events} events, workerd CPU ${p.cpuUsPerEvent} µs/event (profiler attached), profile ${p.profiledUsPerEvent} µs/event`);
        console.log("  by file (self, µs/event):");
        for (const f of p.byFile) console.log(`    ${String(f.us).padStart(7)}  ${f.file}`);
        console.log("  top frames (self, µs/event):");
        for (const f of p.top) console.log(`    ${String(f.us).padStart(7)}  ${f.frame}`);
        console.log("  inclusive (µs/event):");
        for (const f of p.inclusive) console.log(`    ${String(f.us).padStart(7)}  ${f.frame}`);
      }
    }
  } finally {
    for (const side of sides) await side.mf.dispose();
  }
  const result = { at: new Date().toISOString(), head, dirty, ref: opts.ref ?? null, seconds: Number(opts.seconds), load_average: loadavg(), profiles };
  const out = join(ROOT, "bench", "results", "experiments", `${result.at.replace(/:/g, "-").replace(/\.\d+Z$/, "Z")}-hub-profile${opts.ref === undefined ? "" : `-vs-${opts.ref}`}.json`);
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${out}`);
  process.exit(0);
}
try {
  // Warm up (JIT, the objects' first start) outside the measured rounds.
  for (const side of sides) {
    for (const requests of perFlush) await drive(side, 2, () => flushes(side, `warm-${requests}`, requests));
  }
  for (let r = 0; r < Number(opts.rounds); r++) {
    for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
      const result = await round(side, r, Number(opts.seconds), perFlush, Number(opts.cap));
      rounds.push({ round: r, side: side.label, load_average: loadavg()[0], ...result });
      console.log(`round ${r} ${side.label}: ${result.cases.map((c) => `${c.case}, ${c.requestsPerFlush} req/flush: ${c.usPerEvent} µs/event`).join("; ")}`);
    }
  }
} finally {
  for (const side of sides) await side.mf.dispose();
}
const summary = sides.flatMap((side) =>
  perFlush.flatMap((requests) =>
    ["below cap", "at cap"].map((c) => ({
      side: side.label,
      case: c,
      requestsPerFlush: requests,
      medianUsPerEvent: median(rounds.filter((r) => r.side === side.label).map((r) => r.cases.find((x) => x.case === c && x.requestsPerFlush === requests)?.usPerEvent ?? 0)),
    })),
  ),
);
console.log("\nmedian workerd CPU µs per event (building the events subtracted):");
for (const s of summary) console.log(`  ${s.side}: ${s.case}, ${s.requestsPerFlush} request(s) per flush: ${s.medianUsPerEvent}`);
const result = { at: new Date().toISOString(), head, dirty, ref: opts.ref ?? null, ids: opts.ids, deliver: opts.deliver || null, cap: Number(opts.cap), seconds: Number(opts.seconds), load_average: loadavg(), summary, rounds };
const out = join(ROOT, "bench", "results", "experiments", `${result.at.replace(/:/g, "-").replace(/\.\d+Z$/, "Z")}-hub-ingest${opts.ref === undefined ? "" : `-vs-${opts.ref}`}.json`);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written to ${out}`);
