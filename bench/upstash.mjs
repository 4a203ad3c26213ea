// Scenario (b)'s store: a real redis-server plus the project's Upstash-REST bridge
// (tools/redis-bridge/), both on 127.0.0.1 and pinned to the load generator's core,
// since in production Redis runs on other machines than the gateway. The bridge counts
// HTTP requests served and commands by name: the store round trips of scenario (b) are
// its requests less the HGETALLs, which only the experiment monitor sends (its tally read,
// per isolate at most every 10 s while an experiment runs: src/scoring/experiments/monitor.ts),
// counted apart as background calls.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { pinned } from "./cpu.mjs";
import { setTimeout as sleep } from "node:timers/promises";

const BRIDGE = fileURLToPath(new URL("../tools/redis-bridge/bridge.mjs", import.meta.url));

/** A free loopback port (closed again before use; the race is harmless on a quiet host). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

function hasCommand(name) {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Start redis-server and the bridge, or say why not.
 * @returns {Promise<{ skipped: string } | { bindings: Record<string, string>, requests: () => number,
 *   backgroundRequests: () => number, pid: number | null, stop: () => Promise<void> }>}
 */
export async function startUpstash({ cpu }) {
  if (!existsSync(BRIDGE)) {
    return { skipped: "the Upstash-REST bridge is missing: tools/redis-bridge/bridge.mjs" };
  }
  if (!hasCommand("redis-server")) return { skipped: "redis-server is not installed (apt-get install redis-server)" };
  const bridgeModule = await import(BRIDGE);
  if (typeof bridgeModule.startBridge !== "function") {
    return { skipped: "tools/redis-bridge/bridge.mjs has no startBridge() export" };
  }
  const redisPort = await freePort();
  const [cmd = "", ...args] = pinned(cpu, [
    "redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
  ]);
  const redis = spawn(cmd, args, { stdio: "ignore" });
  const stopRedis = async () => {
    if (redis.exitCode === null && redis.signalCode === null) redis.kill("SIGTERM");
    await sleep(100);
  };
  try {
    await sleep(300);
    const token = "riskgate-bench-token";
    const bridge = await bridgeModule.startBridge({ redisPort, port: 0, token });
    return {
      bindings: { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: bridge.token },
      requests: () => {
        const stats = bridge.stats();
        return stats.requests - (stats.byCommand.hgetall ?? 0);
      },
      backgroundRequests: () => bridge.stats().byCommand.hgetall ?? 0,
      pid: redis.pid ?? null,
      stop: async () => {
        await bridge.close();
        await stopRedis();
      },
    };
  } catch (err) {
    await stopRedis();
    return { skipped: `the bridge did not start: ${err instanceof Error ? err.message : String(err)}` };
  }
}
