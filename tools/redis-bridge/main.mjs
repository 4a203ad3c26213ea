// npm run redis: a local stand-in for Upstash. Starts a throwaway redis-server (loopback,
// free port, no persistence, data in a temp dir removed on exit) and the Upstash-REST
// bridge in front of it, prints the URL and token, and leaves them in
// .wrangler/riskgate-redis.json so that `STORE=upstash npm start` in another terminal
// finds them. Ctrl-C stops both.
//
//   REDIS_BRIDGE_PORT=8079 (default)   UPSTASH_REDIS_REST_TOKEN=... (default: random)
//   --log   print every request
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startBridge } from "./bridge.mjs";
import { startRedisServer } from "./redis-server.mjs";

export const STATE_FILE = join(".wrangler", "riskgate-redis.json");

const port = Number(process.env.REDIS_BRIDGE_PORT ?? "8079");
const token = process.env.UPSTASH_REDIS_REST_TOKEN || randomBytes(24).toString("base64url");
const log = process.argv.includes("--log") ? (line) => console.log(`[redis-bridge] ${line}`) : undefined;

const redis = await startRedisServer();
let bridge;
try {
  bridge = await startBridge({ redisPort: redis.port, token, port, log });
} catch (err) {
  await redis.stop();
  console.error(`npm run redis: could not listen on 127.0.0.1:${port} (${err.message}); set REDIS_BRIDGE_PORT`);
  process.exit(1);
}
mkdirSync(".wrangler", { recursive: true });
writeFileSync(STATE_FILE, JSON.stringify({ url: bridge.url, token }), { mode: 0o600 });

console.log(`
Upstash-compatible Redis is running (redis-server on 127.0.0.1:${redis.port}, nothing persisted)

  UPSTASH_REDIS_REST_URL=${bridge.url}
  UPSTASH_REDIS_REST_TOKEN=${token}

In another terminal:  STORE=upstash npm start
(it reads ${STATE_FILE}; or pass the two variables above yourself)
Ctrl-C stops Redis and the bridge.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  rmSync(STATE_FILE, { force: true });
  await bridge.close();
  await redis.stop();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
