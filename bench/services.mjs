// The processes a benchmark run starts besides workerd, and the probes that decide
// whether the scenarios that need later work ((b) Upstash, (d) blocked) can run.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pinned } from "./cpu.mjs";
import { BLOCK_PROBE_LIMIT, BLOCKED_REQUEST } from "./scenarios.mjs";

const ORIGIN = fileURLToPath(new URL("./origin.mjs", import.meta.url));

/**
 * Where the Durable Object's SQLite files live: tmpfs by default. The benchmark measures
 * the gateway's work; on a shared machine the disk's fsync latency depends on what other
 * processes write, and production Durable Objects commit to Cloudflare's storage, not to
 * a local disk. BENCH_DO_STORAGE=/some/dir measures on a real disk instead.
 */
export function doStorage(cleanups) {
  const root = process.env.BENCH_DO_STORAGE ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
  const dir = mkdtempSync(join(root, "riskgate-bench-do-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The bench origin as its own process on the load core, so its CPU is not the gateway's. */
export async function startOrigin(cpu, cleanups) {
  const [cmd = "", ...args] = pinned(cpu, [process.execPath, ORIGIN]);
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"] });
  cleanups.push(async () => {
    child.kill("SIGTERM");
  });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("bench origin did not start")), 10_000);
    child.stdout.once("data", (chunk) => {
      clearTimeout(timer);
      resolve(JSON.parse(String(chunk)).port);
    });
  });
  const count = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/__bench/count`, { signal: AbortSignal.timeout(5000) });
    const body = await res.json();
    return { forwarded: body.forwarded, connections: body.connections };
  };
  return { port, count, pid: child.pid ?? 0 };
}

/** (b) runs only if riskgate accepts STORE=upstash and a request reaches the bridge. */
export async function probeUpstash(port, upstash) {
  const before = upstash.requests();
  const res = await postReset(port, { ...BLOCKED_REQUEST, body: JSON.stringify({ email: "probe@example.com" }) });
  if (res.status !== 202) return `riskgate with STORE=upstash answered ${res.status}: ${(await res.text()).slice(0, 200)}`;
  await res.body?.cancel();
  return upstash.requests() > before ? null : "riskgate with STORE=upstash answered without reaching the bridge";
}

/**
 * (d) runs only once riskgate blocks: flood one identity (the one the "blocked" request
 * stream sends) until riskgate answers 429, at most BLOCK_PROBE_LIMIT times.
 */
export async function probeBlocked(port) {
  const seen = {};
  for (let i = 0; i < BLOCK_PROBE_LIMIT; i++) {
    const res = await postReset(port, BLOCKED_REQUEST);
    await res.body?.cancel();
    seen[res.status] = (seen[res.status] ?? 0) + 1;
    if (res.status === 429) return null;
  }
  return `riskgate never answered 429 to one identity sent ${BLOCK_PROBE_LIMIT} times (answers: ${JSON.stringify(seen)}); the rate-limit ladder / penalty box (issue 6) is not on this branch`;
}

function postReset(port, { headers, body }) {
  return fetch(`http://127.0.0.1:${port}/password/reset`, { method: "POST", headers, body, signal: AbortSignal.timeout(5000) });
}
