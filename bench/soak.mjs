// Soak: does riskgate's memory stay flat? 100,000+ DISTINCT resets (a new account, IP,
// /24 and device shape each, bench/wrk-reset.lua's unique stream with contiguous
// offsets, so no identity repeats) against riskgate on the embedded Durable Object
// store (scenario c's configuration), with each isolate's JS heap read through
// workerd's inspector (Chrome DevTools protocol): `HeapProfiler.collectGarbage`, then
// `Runtime.getHeapUsage`, before (once warm), between load chunks, and after.
//
// For the soak each Durable Object class is hosted by a service of its own (workerd.mjs,
// splitDurableObjects), so the worker, the store and the audit hub are three isolates
// (three inspector targets) and growth is attributed to one of them. workerd's RSS is
// read as well (all isolates plus native memory, SQLite's page cache included), with its
// anonymous memory and largest anonymous mappings: mostly tcmalloc's region (holding the
// snapshots' memory) and V8's heap pages, not riskgate's state.
//
//   node --experimental-websocket bench/soak.mjs [--requests N] [--bundle path] [--no-snapshot] [--json]
//     (npm run bench:soak and npm run bench: 120,000 requests; BENCH_SOAK_REQUESTS for another size)
// Prints a table and, with --json, one JSON line last (bench/run.mjs reads it).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { bundleRiskgate } from "./build.mjs";
import { raisePriority } from "./cpu.mjs";
import { runLoad } from "./load.mjs";
import { WORKERS } from "./scenarios.mjs";
import { startOrigin } from "./services.mjs";
import { freePort } from "./upstash.mjs";
import { startWorkerd, workerCounters, writeConfig } from "./workerd.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const REQUESTS = Number(arg("requests", process.env.BENCH_SOAK_REQUESTS ?? 120_000));
const WARM = Number(arg("warm", Math.min(10_000, Math.round(REQUESTS / 5))));
const CHUNK_SECONDS = Number(arg("chunk-seconds", 8));
/** Never run unbounded: stop loading after this many seconds, whatever was reached. */
const MAX_SECONDS = Number(arg("max-seconds", 600));
const GATEWAY_CPU = 0;
const LOAD_CPU = 1;
const JSON_OUT = process.argv.includes("--json");
/**
 * --no-snapshot: take no heap snapshots (so force no GC); read each isolate's heap as V8
 * reports it (committed, garbage included). A heap snapshot is not free: V8 builds it in
 * malloc'd memory (HeapEntry/edge deques, hash maps of tens of MB), and workerd's
 * tcmalloc keeps the freed pages, so with snapshots most of workerd's RSS is the
 * snapshots' (BENCHMARKS.md, "Where workerd's memory goes").
 */
const NO_SNAPSHOT = process.argv.includes("--no-snapshot");
const log = (msg) => console.log(`soak: ${msg}`);

const ROLE = { worker: "the worker (gateway)", store: "store DO (RiskgateStore)", audit: "audit hub DO (RiskgateAuditHub)" };
/** Inspector titles are "workerd: worker <service>"; the soak's services are named in workerd.mjs. */
const isolateName = (title) => ({ "riskgate-do": "worker", "riskgate-do-store": "store", "riskgate-do-audit": "audit" })[title.replace(/^workerd: worker /, "")] ?? title;

const cleanups = [];
const cleanup = async () => {
  while (cleanups.length > 0) await cleanups.pop()?.().catch(() => undefined);
};
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => cleanup().then(() => process.exit(130)));
const restorePriority = raisePriority();
try {
  const result = await soak();
  console.log(`\n${describe(result)}\n`);
  if (JSON_OUT) console.log(JSON.stringify(result));
} finally {
  await cleanup();
  restorePriority();
}

async function soak() {
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "riskgate-soak-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const given = arg("bundle", null);
  if (given === null) log("bundling riskgate (wrangler deploy --dry-run)");
  const bundle = given ?? bundleRiskgate(join(dir, "bundle"));
  const origin = await startOrigin(LOAD_CPU, cleanups);
  const declared = WORKERS.find((w) => w.name === "riskgate-do");
  const port = await freePort();
  const inspectorPort = await freePort();
  const config = writeConfig(dir, [{ ...declared, bundle, port, splitDurableObjects: true }], {
    originPort: origin.port,
    storageDir: join(dir, "do"),
    v8Flags: [],
  });
  const workerd = await startWorkerd(config, [port], {
    cpu: GATEWAY_CPU,
    extraArgs: [`--inspector-addr=127.0.0.1:${inspectorPort}`],
  });
  cleanups.push(workerd.stop);
  const sessions = await connectAll(inspectorPort);
  cleanups.push(async () => {
    for (const s of sessions.values()) s.close();
  });
  log(`isolates: ${[...sessions.keys()].join(", ")}; ${REQUESTS} distinct resets after a ${WARM}-request warm-up`);

  let offset = 2 ** 20;
  let sent = 0;
  const started = performance.now();
  const samples = [];
  // One chunk of closed-loop load with identities offset.. (contiguous: i mod 2^24 picks the IP).
  const chunk = async (seconds) => {
    const load = await runLoad({ port, seconds, connections: 16, mode: "unique", offset, cpu: LOAD_CPU });
    // wrk numbers requests as it generates them; leave room for those in flight at the end.
    offset += load.requests + 1000;
    sent += load.requests;
    return load;
  };
  const sample = async (phase) => {
    await sleep(300); // in-flight requests and their waitUntil settle
    const counters = await workerCounters(port);
    const forwarded = (await origin.count()).forwarded;
    const heaps = {};
    for (const [name, s] of sessions) {
      // workerd's inspector never answers HeapProfiler.collectGarbage, and Runtime.evaluate
      // finds no context; a heap snapshot forces a full GC first (its chunks are dropped).
      if (!NO_SNAPSHOT) await s.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      const { usedSize, totalSize } = await s.send("Runtime.getHeapUsage");
      heaps[name] = { used_kb: Math.round(usedSize / 1024), total_kb: Math.round(totalSize / 1024) };
    }
    const s = { phase, requests: counters.requests, forwarded, heaps, rss_kb: rssKb(workerd.pid), ...anonKb(workerd.pid), at_s: Math.round((performance.now() - started) / 1000) };
    samples.push(s);
    const used = Object.entries(heaps).map(([n, h]) => `${n} ${h.used_kb} KB`).join(", ");
    log(`${phase} at ${s.requests} requests (${forwarded} forwarded): ${used}${NO_SNAPSHOT ? ` (no GC; committed ${Object.values(heaps).reduce((sum, h) => sum + h.total_kb, 0)} KB)` : ""}; workerd RSS ${s.rss_kb} KB (anonymous ${s.anon_kb} KB, largest anonymous mappings ${s.anon_largest_kb.join(", ")} KB resident)`);
    return s;
  };

  await sample("start");
  while (sent < WARM) await chunk(Math.min(CHUNK_SECONDS, 4));
  const before = await sample("before");
  const rps = [];
  while (sent - before.requests < REQUESTS && (performance.now() - started) / 1000 < MAX_SECONDS) {
    const load = await chunk(CHUNK_SECONDS);
    rps.push(load.requests / (load.duration_us / 1e6));
    await sample("during");
  }
  samples[samples.length - 1].phase = "end of load";
  // After: idle a while (sweeps, flush timers, anything scheduled), then read again.
  await sleep(5000);
  const after = await sample("after 5 s idle");
  const measured = samples.filter((s) => s.requests >= before.requests && s.phase !== "start");
  const loadSamples = measured.filter((s) => s.phase !== "after 5 s idle");
  const per10k = (pick) => round(slope(loadSamples.map((s) => [s.requests, pick(s)])) * 10_000, 1);
  const isolates = Object.fromEntries(
    [...sessions.keys()].map((name) => [
      name,
      {
        role: ROLE[name] ?? name,
        heap_kb_start: samples[0].heaps[name]?.used_kb ?? null,
        heap_kb_before: before.heaps[name]?.used_kb ?? null,
        heap_kb_end_of_load: loadSamples.at(-1)?.heaps[name]?.used_kb ?? null,
        heap_kb_after: after.heaps[name]?.used_kb ?? null,
        heap_growth_kb_per_10k: per10k((s) => s.heaps[name]?.used_kb ?? 0),
      },
    ]),
  );
  const total = NO_SNAPSHOT ? null : per10k((s) => Object.values(s.heaps).reduce((sum, h) => sum + h.used_kb, 0));
  const distinct = after.requests - before.requests;
  const grows = Object.entries(isolates).sort((a, b) => b[1].heap_growth_kb_per_10k - a[1].heap_growth_kb_per_10k)[0];
  return {
    requests_measured: distinct,
    requests_total: after.requests,
    forwarded_share: round((after.forwarded - before.forwarded) / Math.max(1, distinct), 3),
    rps_median: round(median(rps), 0),
    seconds: Math.round((performance.now() - started) / 1000),
    // The headline: JS heap (after a forced GC) of all isolates, per 10,000 distinct resets once warm.
    heap_growth_kb_per_10k: total,
    heap_growth_kb_per_10k_by_isolate: Object.fromEntries(Object.entries(isolates).map(([n, i]) => [n, i.heap_growth_kb_per_10k])),
    grows_most: grows === undefined ? null : grows[0],
    // Fallback measure, all of workerd (every isolate and native memory, SQLite's cache included).
    rss_growth_kb_per_10k_workerd: per10k((s) => s.rss_kb),
    rss_kb_before: before.rss_kb,
    rss_kb_after: after.rss_kb,
    anon_kb_before: before.anon_kb,
    anon_kb_after: after.anon_kb,
    heaps_after_gc: !NO_SNAPSHOT,
    heap_committed_kb_after: NO_SNAPSHOT ? Object.values(after.heaps).reduce((sum, h) => sum + h.total_kb, 0) : null,
    isolates,
    samples,
  };
}

/** A CDP session per inspector target (one per isolate: here one per service). */
async function connectAll(port) {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const sessions = new Map();
  for (const t of list) sessions.set(isolateName(t.title || t.id), await connect(t.webSocketDebuggerUrl.replace("localhost", "127.0.0.1")));
  return sessions;
}

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
    if (msg.id === undefined) return; // events, e.g. the snapshot's chunks
    const done = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error !== undefined) done?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
    else done?.resolve(msg.result);
  };
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        id++;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
        setTimeout(() => reject(new Error(`${method}: no answer in 30 s`)), 30_000).unref();
      }),
    close: () => ws.close(),
  };
}

/**
 * workerd's anonymous resident memory and its largest anonymous mappings (resident KB), from
 * /proc/<pid>/smaps: a fallback measure. Most of it is tcmalloc's: one reservation per size
 * region, so one mapping holds whatever malloc'd memory tcmalloc has not given back.
 */
function anonKb(pid) {
  try {
    const sizes = [];
    let anonymous = false;
    for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head !== null) anonymous = head[1] === "";
      else if (anonymous && line.startsWith("Rss:")) sizes.push(Number(line.split(/\s+/)[1]));
    }
    sizes.sort((a, b) => b - a);
    return { anon_kb: sizes.reduce((sum, kb) => sum + kb, 0), anon_largest_kb: sizes.slice(0, 3) };
  } catch {
    return { anon_kb: 0, anon_largest_kb: [] };
  }
}

function rssKb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Least-squares slope of y over x. */
function slope(points) {
  if (points.length < 2) return Number.NaN;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}

function median(xs) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(v, d) {
  return Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : null;
}

function describe(r) {
  const rows = Object.entries(r.isolates).map(
    ([name, i]) =>
      `${`${name} (${i.role})`.padEnd(50)} ${String(i.heap_kb_before).padStart(8)} ${String(i.heap_kb_end_of_load).padStart(8)} ${String(i.heap_kb_after).padStart(8)} ${String(i.heap_growth_kb_per_10k).padStart(10)}`,
  );
  return [
    `${r.requests_measured} distinct resets once warm (${r.requests_total} in all, ${r.forwarded_share} forwarded, ~${r.rps_median} req/s, ${r.seconds} s)`,
    `${(r.heaps_after_gc ? "isolate: JS heap after GC, KB" : "isolate: JS heap used, no GC (--no-snapshot), KB").padEnd(50)} ${"before".padStart(8)} ${"end".padStart(8)} ${"after".padStart(8)} ${"KB/10k".padStart(10)}`,
    ...rows,
    `all isolates: ${r.heap_growth_kb_per_10k} KB per 10k; workerd RSS ${r.rss_kb_before} -> ${r.rss_kb_after} KB (${r.rss_growth_kb_per_10k_workerd} KB per 10k, fallback measure); anonymous ${r.anon_kb_before} -> ${r.anon_kb_after} KB${r.heaps_after_gc ? "" : `; JS heaps committed at the end ${r.heap_committed_kb_after} KB`}`,
  ].join("\n");
}
