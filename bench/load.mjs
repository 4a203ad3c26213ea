// Closed-loop load: a fixed number of connections, each sending its next request as
// soon as the previous answer arrives, for a fixed time, from wrk (C, epoll) pinned to
// the load generator's core. A Node client was tried as a fallback and dropped: on the
// shared core it could not saturate even the baseline (about 800 req/s against wrk's
// 6,000), which flatters every ratio. So wrk is required (apt-get install wrk).
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pinned } from "./cpu.mjs";

const SCRIPT = fileURLToPath(new URL("./wrk-reset.lua", import.meta.url));

/** wrk's version line, or null when wrk is not installed. */
export function wrkVersion() {
  try {
    execFileSync("wrk", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return "wrk";
  } catch (err) {
    // wrk prints its version and usage, then exits 1; a missing binary has no output.
    const out = String(err.stdout ?? "");
    return out.startsWith("wrk") ? (out.split("\n")[0]?.trim() ?? "wrk") : null;
  }
}

/**
 * One closed-loop run against 127.0.0.1:`port`, pinned to `cpu`.
 * @param {{ port: number, seconds: number, connections: number, mode: "unique" | "blocked",
 *   offset: number, cpu: number }} options
 * @returns {Promise<{ requests: number, duration_us: number, errors: Record<string, number>,
 *   latency_us: { p50: number, p90: number, p99: number, max: number, mean: number } }>}
 */
export function runLoad({ port, seconds, connections, mode, offset, cpu }) {
  const url = `http://127.0.0.1:${port}/password/reset`;
  const args = ["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "5s", "-s", SCRIPT, url];
  args.push("--", mode, String(offset), "1");
  return new Promise((resolve, reject) => {
    const [cmd = "", ...rest] = pinned(cpu, args);
    const child = spawn(cmd, rest, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      err += c;
    });
    // Bound every run: the load's own duration plus a generous margin.
    const killer = setTimeout(() => child.kill("SIGKILL"), (seconds + 30) * 1000);
    child.on("exit", (code) => {
      clearTimeout(killer);
      const line = out.trim().split("\n").filter((l) => l.startsWith("{")).pop();
      if (code !== 0 || line === undefined) {
        reject(new Error(`wrk failed (exit ${code}):\n${out}\n${err}`));
        return;
      }
      resolve(JSON.parse(line));
    });
  });
}
