// CPU profile of one benchmarked worker under the benchmark's load, through workerd's
// inspector (Chrome DevTools protocol): what to look at when riskgate falls short.
//
//   node --experimental-websocket bench/profile.mjs [worker] [seconds] [mode]
//     worker: riskgate-do (default), riskgate-upstash (bridge + redis-server), passthrough
//     or answer; mode: unique (default, the allow path) or blocked (scenario d: one
//     identity flooded until riskgate blocks it, then sent again and again)
// Writes the .cpuprofile next to the system's temp files (open it in Chrome DevTools)
// and prints the functions with the most self time. JS frames only: time in native code
// (crypto, SQLite, HTTP) shows under the JS function that called it or as "(program)".
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleBaseline, bundleRiskgate } from "./build.mjs";
import { raisePriority } from "./cpu.mjs";
import { runLoad } from "./load.mjs";
import { startBenchOrigin } from "./origin.mjs";
import { WORKERS } from "./scenarios.mjs";
import { probeBlocked } from "./services.mjs";
import { freePort, startUpstash } from "./upstash.mjs";
import { startWorkerd, writeConfig } from "./workerd.mjs";

const [name = "riskgate-do", secondsArg = "5", mode = "unique"] = process.argv.slice(2);
const declared = WORKERS.find((w) => w.name === name);
if (declared === undefined) throw new Error(`unknown worker ${name}`);
const upstash = declared.requires === "upstash" ? await startUpstash({ cpu: 1 }) : null;
if (upstash !== null && "skipped" in upstash) throw new Error(upstash.skipped);
const spec = upstash === null ? declared : { ...declared, bindings: { ...declared.bindings, ...upstash.bindings } };
// tmpfs when there is one, as in the benchmark (run.mjs, doStorage).
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "riskgate-profile-"));
const origin = await startBenchOrigin();
const bundle = spec.build === "riskgate" ? bundleRiskgate(join(dir, "bundle")) : await bundleBaseline(name, dir);
const port = await freePort();
const inspector = await freePort();
const config = writeConfig(dir, [{ ...spec, bundle, port }], { originPort: origin.port, storageDir: join(dir, "do") });
const restorePriority = raisePriority();
const workerd = await startWorkerd(config, [port], { cpu: 0, extraArgs: [`--inspector-addr=127.0.0.1:${inspector}`] });
try {
  const load = (seconds, offset) => runLoad({ port, seconds, connections: 16, mode, offset, cpu: 1 });
  if (mode === "blocked") {
    const unblocked = await probeBlocked(port);
    if (unblocked !== null) throw new Error(unblocked);
  }
  await load(2, 2 ** 20);
  const session = await connect(inspector, name);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 100 });
  await session.send("Profiler.start");
  const result = await load(Number(secondsArg), 2 ** 21);
  const { profile } = await session.send("Profiler.stop");
  session.close();
  const file = join(tmpdir(), `riskgate-${name}-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  console.log(`${Math.round(result.requests / (result.duration_us / 1e6))} req/s while profiling; profile: ${file}`);
  for (const row of summarize(profile, 25)) console.log(row);
} finally {
  await workerd.stop();
  await origin.close();
  if (upstash !== null && "stop" in upstash) await upstash.stop();
  restorePriority();
  rmSync(dir, { recursive: true, force: true });
}

/** A minimal CDP client over the inspector's WebSocket for the service `target`. */
async function connect(port, target) {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const entry = list.find((t) => t.title === target || t.id === target || String(t.url).includes(target)) ?? list[0];
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

/** Time per function, self and inclusive (a function counted once per stack), top `n` of each. */
function summarize(profile, n) {
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  samples.forEach((nodeId, i) => {
    self.set(nodeId, (self.get(nodeId) ?? 0) + (timeDeltas[i] ?? 0));
  });
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node) => {
    const f = node.callFrame;
    return `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
  };
  const selfBy = new Map();
  const inclusiveBy = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    total += us;
    selfBy.set(label(node), (selfBy.get(label(node)) ?? 0) + us);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const key = label(nodes.get(id));
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveBy.set(key, (inclusiveBy.get(key) ?? 0) + us);
    }
  }
  const top = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => `${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  return ["self time:", ...top(selfBy), "", "inclusive time:", ...top(inclusiveBy)];
}
