// One workerd process serving every benchmarked worker, each on its own loopback
// socket, configured by a capnp file written here: no wrangler dev, no Miniflare entry
// worker or proxy between the load generator and the worker (BENCHMARKS.md, "Runtime").
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pinned } from "./cpu.mjs";
import { entrySource, hostedEntrySource } from "./workers/entry.mjs";

const require = createRequire(import.meta.url);
const COMPATIBILITY_DATE = "2026-04-20"; // wrangler.toml's, for every worker alike

/** The workerd binary shipped in node_modules, and its version. */
export function workerdBinary() {
  const pkg = require.resolve("@cloudflare/workerd-linux-64/package.json");
  const version = JSON.parse(readFileSync(pkg, "utf8")).version;
  return { path: join(pkg, "..", "bin", "workerd"), version };
}

const text = (s) => JSON.stringify(s);

/**
 * Write the capnp config into `dir`. Each worker: { name, bundle (path of the bundled
 * module), port, bindings: {NAME: text}, durableObject: boolean }. Durable Object
 * SQLite files go to `storageDir`.
 * @returns {string} path of the config file
 */
export function writeConfig(dir, workers, { originPort, storageDir, v8Flags = [] }) {
  const services = [];
  const sockets = [];
  const definitions = [];
  for (const w of workers) {
    mkdirSync(join(dir, w.name), { recursive: true });
    // Bundles from before the audit hub (BENCH_COMPARE with an older ref) do not export it.
    // Matched by name: wrangler's esbuild (keep_names = false) emits `RiskgateAuditHub = class
    // extends DurableObject`, which a test for "class RiskgateAuditHub" never found, so the
    // audit hub was not bound and every audit flush failed (fixed with scenario g).
    const auditHub = w.durableObject === true && /\bRiskgateAuditHub\b/.test(readFileSync(w.bundle, "utf8"));
    copyFileSync(w.bundle, join(dir, w.name, "worker.js"));
    // Data modules wrangler writes beside the bundle (compiled lists, geo tables).
    const dataModules = readdirSync(dirname(w.bundle)).filter((f) => f.endsWith(".bin"));
    for (const f of dataModules) copyFileSync(join(dirname(w.bundle), f), join(dir, w.name, f));
    const vars = Object.entries({ ...w.bindings, ORIGIN_URL: `http://127.0.0.1:${originPort}` }).map(
      ([name, value]) => `(name = ${text(name)}, text = ${text(value)})`,
    );
    // splitDurableObjects (bench/soak.mjs): each Durable Object class is hosted by a
    // service of its own, so each runs in its own isolate (as on Cloudflare) and the
    // inspector shows the worker, the store and the audit hub apart. Otherwise the
    // classes live in the worker's service and share its isolate.
    const split = w.durableObject === true && w.splitDurableObjects === true;
    const classes = w.durableObject === true ? [["RiskgateStore", "RISKGATE_STORE", `bench-${w.name}`, "store"]] : [];
    if (auditHub) classes.push(["RiskgateAuditHub", "RISKGATE_AUDIT", `bench-audit-${w.name}`, "audit"]);
    const host = (suffix) => (split ? `${w.name}-${suffix}` : w.name);
    // Split, the store counts its calls in its own isolate; the worker's entry asks it.
    const counters = split && classes.some(([cls]) => cls === "RiskgateStore") ? [`(name = "BENCH_STORE", service = ${text(host("store"))})`] : [];
    const bindings = [
      ...vars,
      ...classes.map(
        ([cls, binding, , suffix]) =>
          `(name = ${text(binding)}, durableObjectNamespace = ${split ? `(className = ${text(cls)}, serviceName = ${text(host(suffix))})` : text(cls)})`,
      ),
    ];
    const define = (service, entry, hosted) => {
      const constant = `worker${service.replace(/(^|[-_])(\w)/g, (_, _sep, c) => c.toUpperCase())}`;
      const entryFile = `${service === w.name ? "entry" : `entry-${service}`}.mjs`;
      writeFileSync(join(dir, w.name, entryFile), entry);
      const durable =
        hosted.length === 0
          ? ""
          : `durableObjectNamespaces = [${hosted
              .map(([cls, , key]) => `(className = ${text(cls)}, uniqueKey = ${text(key)}, enableSql = true)`)
              .join(", ")}],
    durableObjectStorage = (localDisk = "do-disk"),`;
      definitions.push(`const ${constant} :Workerd.Worker = (
    modules = [
      (name = "entry.mjs", esModule = embed ${text(`${w.name}/${entryFile}`)}),
      (name = "worker.js", esModule = embed ${text(`${w.name}/worker.js`)}),
${dataModules.map((f) => `      (name = ${text(f)}, data = embed ${text(`${w.name}/${f}`)}),\n`).join("")}    ],
    compatibilityDate = ${text(COMPATIBILITY_DATE)},
    bindings = [${(service === w.name ? [...bindings, ...counters] : bindings).join(", ")}],
    globalOutbound = "loopback",
    ${durable}
  );`);
      services.push(`(name = ${text(service)}, worker = .${constant})`);
    };
    if (split) {
      define(w.name, entrySource({ durableObject: false }), []);
      for (const c of classes) define(host(c[3]), hostedEntrySource(c[0]), [c]);
    } else {
      define(w.name, entrySource({ durableObject: w.durableObject === true, auditHub }), classes);
    }
    // request.cf comes from the cf-blob header, as Cloudflare's edge would provide it.
    sockets.push(
      `(name = ${text(w.name)}, address = ${text(`127.0.0.1:${w.port}`)}, http = (cfBlobHeader = "cf-blob"), service = ${text(w.name)})`,
    );
  }
  mkdirSync(storageDir, { recursive: true });
  services.push(`(name = "loopback", network = (allow = ["local"]))`);
  services.push(`(name = "do-disk", disk = (path = ${text(storageDir)}, writable = true))`);
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [${services.join(",\n    ")}],
  sockets = [${sockets.join(",\n    ")}],${v8Flags.length === 0 ? "" : `\n  v8Flags = [${v8Flags.map(text).join(", ")}],`}
);
${definitions.join("\n")}
`;
  const path = join(dir, "bench.capnp");
  writeFileSync(path, config);
  return path;
}

/**
 * Start `workerd serve` pinned to `cpu` and wait until every port answers.
 * @returns {Promise<{ pid: number, stop: () => Promise<void>, stderr: () => string }>}
 */
export async function startWorkerd(configPath, ports, { cpu, extraArgs = [], stdout = "ignore" }) {
  const { path } = workerdBinary();
  const [cmd = "", ...args] = pinned(cpu, [path, "serve", configPath, ...extraArgs]);
  // stdout: the workers' console (the decision log); ignored unless a caller wants it
  // (a file descriptor, bench/verdicts.mjs).
  const child = spawn(cmd, args, {
    stdio: ["ignore", stdout, "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    // Keep the tail only: the decision log is not needed, an error is.
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const done = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
    if (!done) child.kill("SIGKILL");
  };
  for (const port of ports) {
    if (!(await waitForPort(port, child))) {
      await stop();
      throw new Error(`workerd did not listen on ${port}:\n${stderr}`);
    }
  }
  return { pid: child.pid ?? 0, stop, stderr: () => stderr };
}

async function waitForPort(port, child) {
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/__bench/store-calls`, { signal: AbortSignal.timeout(1000) });
      return true;
    } catch {
      await sleep(100);
    }
  }
  return false;
}

/** Requests relayed and store calls seen by the entry module of the worker on `port`. */
export async function workerCounters(port) {
  // Read after a round, when the worker may still be working through the forwards it
  // queued in waitUntil (a saturated core): give it time, and a second try, rather than
  // lose the run (5 s once timed out here; no request arrives meanwhile, so a late read
  // counts the same requests).
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/__bench/store-calls`, { signal: AbortSignal.timeout(20_000) });
      const body = await res.json();
      return { requests: body.requests, storeCalls: body.storeCalls, backgroundCalls: body.backgroundCalls ?? null };
    } catch (err) {
      if (attempt >= 2) throw err;
    }
  }
}
