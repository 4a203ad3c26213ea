// Diagnostic: why does a worker open new origin connections? Runs one benchmarked worker
// under the benchmark's load (16 connections, the unique stream) against an origin that
// counts new TCP connections, how many are open at once and who closed them, with a
// timeline every 250 ms (requests the worker handled, forwards the origin received, new
// connections, open connections) and the latency of a trivial worker in its own isolate
// of the same workerd process (`side_worker_ms`: does workerd still take new work?).
// BENCHMARKS.md, "Origin connections in (c): the shared isolate".
//
//   node bench/conn-probe.mjs [b|c] [seconds]
//   BENCH_SPLIT_DO=0: the Durable Objects in the worker's isolate (bench/scenarios.mjs)
//   PROBE_ROUNDS (2), PROBE_CONNS (16), PROBE_TIMELINE=1 (print the timeline),
//   PROBE_BUNDLE (a riskgate bundle already built, e.g. by bench/build.mjs)
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleBaseline, bundleRiskgate } from "./build.mjs";
import { runLoad } from "./load.mjs";
import { SCENARIOS, WORKERS } from "./scenarios.mjs";
import { freePort, startUpstash } from "./upstash.mjs";
import { startWorkerd, workerCounters, writeConfig } from "./workerd.mjs";

const [which = "c", secondsArg = "3"] = process.argv.slice(2);
const scenario = SCENARIOS.find((s) => s.id === which);
const declared = WORKERS.find((w) => w.name === scenario.worker);

let open = 0;
let maxOpen = 0;
let requests = 0;
const perConn = [];
const closedBy = { client: 0, server: 0 };
const server = createServer((req, res) => {
  requests++;
  req.socket.__n = (req.socket.__n ?? 0) + 1;
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": 15 });
    res.end('{"status":"ok"}');
  });
});
server.keepAliveTimeout = 60_000;
server.on("connection", (socket) => {
  open++;
  maxOpen = Math.max(maxOpen, open);
  let ended = false;
  socket.on("end", () => {
    ended = true;
  });
  socket.on("close", () => {
    open--;
    perConn.push(socket.__n ?? 0);
    closedBy[ended ? "client" : "server"]++;
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const originPort = server.address().port;

const upstash = declared.requires === "upstash" ? await startUpstash({ cpu: 1 }) : null;
const base = declared;
const spec = upstash === null ? base : { ...base, bindings: { ...base.bindings, ...upstash.bindings } };
const connections = Number(process.env.PROBE_CONNS ?? 16);
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "riskgate-connprobe-"));
const bundle = process.env.PROBE_BUNDLE ?? bundleRiskgate(join(dir, "bundle"));
console.error(`bundle ${bundle}`);
const port = await freePort();
// A second, trivial worker in the same workerd process (its own isolate): does the process
// still answer new work while riskgate's isolate is saturated?
const sidePort = await freePort();
const side = { name: "answer", bundle: await bundleBaseline("answer", dir), port: sidePort };
const config = writeConfig(dir, [{ ...spec, bundle, port }, side], { originPort, storageDir: join(dir, "do") });
const workerd = await startWorkerd(config, [port, sidePort], { cpu: 0 });
const sideLatency = async () => {
  const t = performance.now();
  const res = await fetch(`http://127.0.0.1:${sidePort}/password/reset`, { method: "POST" });
  await res.arrayBuffer();
  return Math.round(performance.now() - t);
};
const snap = () => ({ requests, connections: perConn.length + open, open, maxOpen });
try {
  for (let round = 0; round < Number(process.env.PROBE_ROUNDS ?? 2); round++) {
    const before = snap();
    maxOpen = open;
    const w0 = (await workerCounters(port)).requests;
    const timeline = [];
    const t0 = performance.now();
    const sideMs = [];
    const sideSampler = setInterval(async () => {
      sideMs.push(await sideLatency());
    }, 100);
    const sampler = setInterval(async () => {
      const s = snap();
      const w = (await workerCounters(port)).requests - w0;
      timeline.push([Math.round(performance.now() - t0), w, s.requests - before.requests, s.connections - before.connections, s.open]);
    }, 250);
    const load = await runLoad({ port, seconds: Number(secondsArg), connections, mode: "unique", offset: (round + 1) * 2 ** 20, cpu: 1 });
    await new Promise((r) => setTimeout(r, 250));
    clearInterval(sampler);
    clearInterval(sideSampler);
    if (process.env.PROBE_TIMELINE === "1") console.log(JSON.stringify({ timeline_ms_handled_forwarded_newconns_open: timeline }));
    const w1 = (await workerCounters(port)).requests;
    const after = snap();
    const handled = w1 - w0;
    console.log(
      JSON.stringify({
        scenario: which,
        split: spec.splitDurableObjects === true,
        connections,
        round,
        rps: Math.round(load.requests / (load.duration_us / 1e6)),
        p99_us: load.latency_us.p99,
        handled,
        forwarded: after.requests - before.requests,
        new_connections_per_request: Number(((after.connections - before.connections) / handled).toFixed(3)),
        max_open: after.maxOpen,
        side_worker_ms: { n: sideMs.length, max: Math.max(...sideMs), median: [...sideMs].sort((a, b) => a - b)[sideMs.length >> 1] },
        open_after: after.open,
        closed_by: { ...closedBy },
        requests_per_closed_connection_median: perConn.length === 0 ? null : [...perConn].sort((a, b) => a - b)[perConn.length >> 1],
      }),
    );
  }
} finally {
  await workerd.stop();
  if (upstash !== null && "stop" in upstash) await upstash.stop();
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
