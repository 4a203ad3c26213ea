// Storage cost per account of the account roster (POST /v1/accounts), on both stores'
// layouts, measured on real engines (docs/store.md, "Account roster"):
//   - Upstash/Redis: a real redis-server, keys laid out as src/store/upstash-batch.ts does
//     (`rg:r:<first 3 chars>` hashes, field = the other 19 chars, value "1"); bytes =
//     growth of INFO's used_memory.
//   - Durable Object: SQLite (the engine DO storage is billed on) with the table
//     src/store/durable-object.ts creates; bytes = database file size after VACUUM.
// Keys are random 22-character base64url strings, as the HMAC'd account keys are.
//
//   node bench/roster-size.mjs [N ...]        # default: 100000 1000000
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisConnection } from "../tools/redis-bridge/resp.mjs";
import { startRedisServer } from "../tools/redis-bridge/redis-server.mjs";

const sizes = process.argv.slice(2).map(Number);
const counts = sizes.length > 0 ? sizes : [100_000, 1_000_000];
const key = () => randomBytes(16).toString("base64url");

async function usedMemory(conn) {
  const [info] = await conn.send([["INFO", "memory"]]);
  return Number(/used_memory:(\d+)/.exec(String(info))?.[1]);
}

async function redisBytes(n) {
  const server = await startRedisServer();
  const conn = new RedisConnection({ port: server.port });
  try {
    const before = await usedMemory(conn);
    for (let done = 0; done < n; done += 10_000) {
      const batch = [];
      for (let i = 0; i < Math.min(10_000, n - done); i++) {
        const k = key();
        batch.push(["HSET", `rg:r:${k.slice(0, 3)}`, k.slice(3), "1"]);
      }
      await conn.send(batch);
    }
    return (await usedMemory(conn)) - before;
  } finally {
    conn.close();
    await server.stop();
  }
}

function sqliteBytes(n) {
  const dir = mkdtempSync(join(tmpdir(), "roster-size-"));
  try {
    const db = join(dir, "roster.sqlite");
    const rows = Array.from({ length: n }, () => `('${key()}')`);
    const sql = ["CREATE TABLE roster (key TEXT PRIMARY KEY) WITHOUT ROWID;", "BEGIN;"];
    for (let i = 0; i < rows.length; i += 500) sql.push(`INSERT OR IGNORE INTO roster (key) VALUES ${rows.slice(i, i + 500).join(",")};`);
    sql.push("COMMIT;", "VACUUM;");
    writeFileSync(join(dir, "load.sql"), sql.join("\n"));
    execFileSync("sqlite3", [db, `.read ${join(dir, "load.sql")}`]);
    return statSync(db).size;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const n of counts) {
  const redis = await redisBytes(n);
  const sqlite = sqliteBytes(n);
  console.log(JSON.stringify({ accounts: n, redis_bytes_per_account: Math.round(redis / n), sqlite_bytes_per_account: Math.round(sqlite / n), redis_mib: +(redis / 2 ** 20).toFixed(1), sqlite_mib: +(sqlite / 2 ** 20).toFixed(1) }));
}
