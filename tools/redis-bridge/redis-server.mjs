// Start and stop a throwaway redis-server for tests and `npm run redis`: loopback only,
// no persistence (no RDB, no AOF), its working directory a fresh temp dir that is
// removed on stop, and a watchdog that stops it if the starting process dies.
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { RedisConnection } from "./resp.mjs";

/** The redis-server executable on PATH, or null when none is installed. */
export function findRedisServer() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir || ".", "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** A free TCP port on 127.0.0.1 (free now; the caller retries if it is taken meanwhile). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitReady(port, child) {
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) return false;
    const conn = new RedisConnection({ port });
    try {
      const [reply] = await conn.send([["PING"]]);
      if (reply === "PONG") return true;
    } catch {
      // not listening yet
    } finally {
      conn.close();
    }
    await sleep(100);
  }
  return false;
}

function spawnRedis(binary, port, dir) {
  const args = [
    "--port", String(port), "--bind", "127.0.0.1", "--protected-mode", "yes",
    "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no",
    "--loglevel", "warning", "--logfile", "",
  ];
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return { child, stderr: () => stderr };
}

// If this process is killed without cleaning up, stop redis within a second or so.
function watchdog(redisPid) {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill ${redisPid} 2>/dev/null`;
  const dog = spawn("sh", ["-c", script], { stdio: "ignore", detached: true });
  dog.unref();
  return dog;
}

/**
 * Start redis-server on a free loopback port.
 * @param {{ binary?: string }} [options]
 * @returns {Promise<{ port: number, dir: string, stop: () => Promise<void> }>}
 */
export async function startRedisServer({ binary = findRedisServer() ?? "" } = {}) {
  if (binary === "") throw new Error("redis-server is not installed (Debian: apt-get install redis-server)");
  const dir = mkdtempSync(join(tmpdir(), "riskgate-redis-"));
  let lastError = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const { child, stderr } = spawnRedis(binary, port, dir);
    if (await waitReady(port, child)) {
      const dog = watchdog(child.pid);
      return { port, dir, stop: () => stopRedis(child, dog, port, dir) };
    }
    lastError = stderr();
    child.kill("SIGKILL");
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`redis-server did not start: ${lastError.trim() || "no output"}`);
}

async function stopRedis(child, dog, port, dir) {
  const exited = child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", resolve));
  const conn = new RedisConnection({ port });
  // SHUTDOWN closes the connection instead of replying; the rejection is expected.
  await conn.send([["SHUTDOWN", "NOSAVE"]]).catch(() => undefined);
  conn.close();
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
  try {
    process.kill(-dog.pid);
  } catch {
    // the watchdog already ended
  }
  rmSync(dir, { recursive: true, force: true });
}
