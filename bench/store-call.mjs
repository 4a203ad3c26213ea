// What one Upstash store call of an allowed reset costs workerd, taken apart, without a
// profiler (BENCHMARKS.md, "The Upstash call"). bench/workers/store-call.ts runs `n` calls
// in a row per request in one mode (see there), against the benchmark's redis-server and Upstash-REST bridge (bench/upstash.mjs,
// on core 1); workerd on core 0. Reported: workerd's CPU (/proc, all threads) per call,
// median of the rounds; the modes alternate within each round.
//
//   node bench/store-call.mjs [--rounds 5] [--calls 2000] [--modes floor,adapter] [--ref <commit>]
//   (--ref: mode adapter-ref runs the adapter as committed there, for a before/after in one run)
// Wrap it in the shared lock: flock /tmp/bench.lock node bench/store-call.mjs
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { build } from "esbuild";
import { cpuMicros, pinned } from "./cpu.mjs";
import { freePort, startUpstash } from "./upstash.mjs";
import { workerdBinary } from "./workerd.mjs";

const argv = process.argv.slice(2);
const opt = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const rounds = Number(opt("--rounds", "5"));
const calls = Number(opt("--calls", "2000"));
const smoke = argv.includes("--smoke"); // a functional check: a few calls, workerd not pinned
const ref = opt("--ref", null);
const modes = opt("--modes", `floor,floor-signal,floor-ctl,body,body-signal,body-ctl,body-hdr,adapter${ref === null ? "" : ",adapter-ref"}`).split(",");
const ROOT = join(import.meta.dirname, "..");

const upstash = await startUpstash({ cpu: 1 });
if (smoke) console.log("smoke run: numbers mean nothing");
if ("skipped" in upstash) throw new Error(upstash.skipped);
const dir = mkdtempSync(join(tmpdir(), "riskgate-store-call-"));
let child = null;
try {
  let refAdapter = join(ROOT, "src", "store", "upstash.ts");
  if (ref !== null) {
    const tree = join(dir, "ref");
    execFileSync("mkdir", ["-p", tree]);
    execFileSync("tar", ["-x", "-C", tree], { input: execFileSync("git", ["archive", "--format=tar", ref, "src"], { cwd: ROOT, maxBuffer: 2 ** 28 }) });
    refAdapter = join(tree, "src", "store", "upstash.ts");
    console.log(`adapter-ref: ${execFileSync("git", ["rev-parse", "--short", ref], { cwd: ROOT }).toString().trim()}`);
  }
  await build({
    entryPoints: [join(ROOT, "bench", "workers", "store-call.ts")],
    outfile: join(dir, "store-call.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    alias: { "riskgate-ref-upstash": refAdapter },
    logLevel: "error",
  });
  const port = await freePort();
  const vars = Object.entries(upstash.bindings).map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`);
  writeFileSync(
    join(dir, "c.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = (modules = [(name = "w.js", esModule = embed "store-call.js")], compatibilityDate = "2026-04-20",
      bindings = [${vars.join(", ")}], globalOutbound = "loopback")),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
`,
  );
  const serve = [workerdBinary().path, "serve", join(dir, "c.capnp")];
  const [cmd = "", ...args] = smoke ? serve : pinned(0, serve);
  child = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
  const pid = child.pid;
  const get = async (query) => {
    for (let i = 0; ; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/?${query}`);
        const text = await res.text();
        if (!res.ok) throw new Error(`${query}: ${res.status} ${text.slice(0, 300)}`);
        return text;
      } catch (err) {
        if (i > 50 || String(err).includes(": 5")) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  console.log(`observe body: ${await get(`mode=prepare&n=${calls}&run=0`)} bytes`);
  // Fresh keys before every adapter request (the prepare request is not measured), so
  // no account's rate limit trips.
  let run = 0;
  const call = async (mode, n) => {
    if (mode.startsWith("adapter")) await get(`mode=prepare&n=${n}&run=${++run}`);
    return get(`mode=${mode}&n=${n}`);
  };
  await call("adapter", 5); // loads the script (EVALSHA -> NOSCRIPT -> EVAL)
  for (const mode of modes) console.log(`${mode}: reply ${await call(mode, smoke ? 5 : 200)} bytes (warm-up)`);
  const results = Object.fromEntries(modes.map((m) => [m, []]));
  for (let r = 1; r <= rounds; r++) {
    for (const mode of r % 2 === 0 ? [...modes].reverse() : modes) {
      if (mode.startsWith("adapter")) await get(`mode=prepare&n=${calls}&run=${++run}`);
      const before = cpuMicros(pid);
      await get(`mode=${mode}&n=${calls}`);
      results[mode].push(Math.round(((cpuMicros(pid) - before) * 10) / calls) / 10);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const mode of modes) console.log(`${mode}: median ${median(results[mode])} µs CPU per call (rounds: ${results[mode].join(", ")})`);
} finally {
  child?.kill("SIGTERM");
  await upstash.stop();
  rmSync(dir, { recursive: true, force: true });
}
