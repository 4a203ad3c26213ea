// What the Workers log lines of an allowed reset cost workerd, without a profiler
// (BENCHMARKS.md, "One log line per reset"). A worker writes, per iteration, what the
// record stage writes for one allowed reset:
//   two:  the decision log line and the `forward` event's line (two console.log), as before;
//   one:  the decision log line carrying the forward event (one console.log), as now;
//   none: the decision line serialised, not written (what JSON.stringify alone costs).
// workerd's CPU (/proc, all threads) over 100,000 iterations in one request, per iteration.
// The lines have the shape and about the size of the benchmark's (b) lines. workerd's stdout
// is /dev/null, as in bench/run.mjs and bench/stages.mjs; on Cloudflare console.log feeds
// Workers Logs instead, whose cost this cannot measure.
//
//   node bench/log-lines.mjs [--inspector] [--rounds 5]
//   (--inspector: workerd runs with --inspector-addr, as under bench/stages.mjs, no client attached)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuMicros, pinned } from "./cpu.mjs";
import { freePort } from "./upstash.mjs";
import { workerdBinary } from "./workerd.mjs";

const WORKER = `
const line = {"type":"riskgate.decision","ts":"2026-12-02T23:05:40.123Z","id":"0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b","route":"/password/reset","verdict":"allow","tier":"low","score":0,"channel":"email_link","experiment":null,"reasons":[],"shadow_reasons":[],"mode":"live","errors":[],"rules":"r-3f9a1c2b7d","account":"AbCdEfGhIjKlMnOpQrStUv","account_counted":"AbCdEfGhIjKlMnOpQrStUw","ip":"QwErTyUiOpAsDfGhJkLzXc","action":"forwarded","origin_status":200,"origin_ms":3,"ms":2,"facts":{"velocity":{"account_1h":1,"ip_10m":3,"ip_1h":5,"subnet_10m":3,"device_1h":1},"device":{"browser":"Chrome","os":"Windows","mobile":false},"geo":{"country":"NL","asn":64500},"history":{"known_ip":true}},"candidate":{"verdict":"allow","tier":"low","score":0,"changed":false},"event":{"id":"0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5c","source":"0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5d","seq":1}};
const data = {"origin":"http://127.0.0.1:40000","ok":true,"status":200,"error":null,"ms":3,"respond":"uniform","attempts":1,"lost":false};
const fwd = {"v":1,"id":"0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5e","ts":"2026-12-02T23:05:40.123Z","source":"0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5d","seq":2,"request_id":"0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5f","decision_id":"0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b","rules":"r-3f9a1c2b7d","type":"forward","data":data};
export default { async fetch(req) {
  const u = new URL(req.url);
  const n = Number(u.searchParams.get("n"));
  const mode = u.searchParams.get("mode");
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    line.event.seq = i;
    if (mode === "two") {
      const a = JSON.stringify(line);
      console.log(a);
      const b = JSON.stringify({ type: "riskgate.forward", event: fwd });
      console.log(b);
      bytes = a.length + b.length;
    } else if (mode === "one") {
      const a = JSON.stringify({ ...line, forward: { id: fwd.id, seq: fwd.seq, data } });
      console.log(a);
      bytes = a.length;
    } else bytes = JSON.stringify(line).length;
  }
  return new Response(String(bytes));
} };
`;

const argv = process.argv.slice(2);
const inspector = argv.includes("--inspector");
const rounds = Number(argv[argv.indexOf("--rounds") + 1] || 5) || 5;
const N = 100_000;
const dir = mkdtempSync(join(tmpdir(), "riskgate-log-lines-"));
const port = await freePort();
writeFileSync(join(dir, "w.js"), WORKER);
writeFileSync(
  join(dir, "c.capnp"),
  `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = (modules = [(name = "w.js", esModule = embed "w.js")], compatibilityDate = "2024-09-23"))],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
`,
);
const extra = inspector ? [`--inspector-addr=127.0.0.1:${await freePort()}`] : [];
const [cmd = "", ...args] = pinned(0, [workerdBinary().path, "serve", join(dir, "c.capnp"), ...extra]);
const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
try {
  const get = async (mode, n) => {
    for (let i = 0; ; i++) {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/?mode=${mode}&n=${n}`)).text();
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const modes = ["two", "one", "none"];
  for (const mode of modes) console.log(`${mode}: ${await get(mode, 1)} bytes per reset`);
  for (const mode of modes) await get(mode, 20_000); // warm-up
  const results = Object.fromEntries(modes.map((m) => [m, []]));
  for (let r = 1; r <= rounds; r++) {
    for (const mode of modes) {
      const before = cpuMicros(child.pid);
      await get(mode, N);
      const ns = Math.round(((cpuMicros(child.pid) - before) * 1000) / N);
      results[mode].push(ns);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const mode of modes) console.log(`${mode}: median ${median(results[mode])} ns CPU per reset (rounds: ${results[mode].join(", ")})${inspector ? ", inspector listening" : ""}`);
} finally {
  child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
