// Privacy: after real traffic through the gateway (and every kind of write the port
// has), no raw email, account id, IP or device trait appears in any stored key or
// value. Redis is scanned whole (keys and values of every type); the Durable Object's
// SQLite tables are dumped whole.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, inject, it } from "vitest";
import { normaliseIdentifier } from "../../src/context/account.ts";
import type { Gateway } from "../../src/gateway/gateway.ts";
import { postReset, testGateway, upstashGateway } from "./gateway-harness.ts";

const bridge = inject("redis");

const PEOPLE = [
  { email: "Privacy.Person+reset@Example.org", ip: "198.51.100.77", ua: "PrivacyProbe/7.3 (X11; Linux x86_64)", lang: "xx-PRIVACY" },
  { email: "acct-48151623", ip: "2001:db8:85a3::8a2e:370:7334", ua: "PrivacyProbe/7.3 (Macintosh)", lang: "yy-SECRET" },
];
/** Raw values that must never be stored, matched case-insensitively. */
const NEEDLES = [
  "privacy.person", "example.org", "acct-48151623", "48151623",
  "198.51.100.77", "198.51.100.", "2001:db8:85a3", "8a2e:370", "privacyprobe", "xx-privacy", "yy-secret",
];

/** Drive every write path: resets through the app, then history, penalty and tally writes. */
async function exercise(gateway: Gateway): Promise<void> {
  for (const p of PEOPLE) {
    const res = await postReset(gateway, { email: p.email }, { "cf-connecting-ip": p.ip, "user-agent": p.ua, "accept-language": p.lang });
    expect(res.status).toBe(202);
    const account = await gateway.hasher.hash("account", normaliseIdentifier(p.email) ?? "");
    const device = await gateway.hasher.hash("device", `${p.ua}\u0000${p.lang}`);
    const ip = await gateway.hasher.hash("ip", p.ip);
    const now = Date.now();
    await gateway.store.recordHistory({ historyKey: `h:${account}`, device, country: "DE", asn: 3320, location: { lat: 52.5, lon: 13.4 }, at: now });
    await gateway.store.penalize({ key: `p:ip:${ip}`, now, policy: { baseMs: 1000, factor: 2, maxMs: 60_000, decayMs: 60_000 } });
    await gateway.store.tally({ experiment: "privacy_check", arm: "a", now, add: { sent: 1 }, eventKey: await gateway.hasher.hash("event", p.email) });
  }
}

function leaks(dump: string): string[] {
  const haystack = dump.toLowerCase();
  return NEEDLES.filter((n) => haystack.includes(n));
}

/** Every key and value in Redis, as text. */
async function redisDump(redis: Redis): Promise<string> {
  const parts: string[] = [];
  let cursor = "0";
  for (let round = 0; round < 10_000; round++) {
    const [next, keys] = await redis.scan(cursor, { count: 500 });
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === "string" ? await redis.get(key)
        : type === "hash" ? await redis.hgetall(key)
        : type === "zset" ? await redis.zrange(key, 0, -1, { withScores: true })
        : type === "set" ? await redis.smembers(key)
        : type === "list" ? await redis.lrange(key, 0, -1)
        : `unexpected type ${type}`;
      parts.push(key, JSON.stringify(value));
    }
    cursor = String(next);
    if (cursor === "0") break;
  }
  return parts.join("\n");
}

describe("privacy of stored state", () => {
  // The scan reads every key of the shared test Redis one by one, including the keys of
  // the rate-limit floods (test/worker/ratelimit-flood.test.ts): thousands, so seconds.
  (bridge === null ? it.skip : it)("Upstash: the whole Redis keyspace holds no raw identifier", { timeout: 60_000 }, async () => {
    if (bridge === null) return;
    const { gateway } = await upstashGateway(bridge, "privacy");
    await exercise(gateway);
    const admin = new Redis({ url: bridge.url, token: bridge.token, enableTelemetry: false, enableAutoPipelining: false });
    const dump = await redisDump(admin);
    expect(dump).toContain("rg:h:"); // the scan did see this test's history
    expect(dump).toContain("rg:t:privacy_check");
    expect(leaks(dump)).toEqual([]);
  });

  it("Durable Object: no table holds a raw identifier", async () => {
    const { gateway } = await testGateway({});
    await exercise(gateway);
    const stub = env.RISKGATE_STORE.get(env.RISKGATE_STORE.idFromName("shard-0"));
    // Counters live in the object's memory until the write-behind flush: flush them first.
    await runDurableObjectAlarm(stub);
    const dump = await runInDurableObject(stub, (_instance, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
        .toArray()
        .map((t) => t.name);
      return tables.map((t) => `${t}\n${JSON.stringify(state.storage.sql.exec(`SELECT * FROM ${t}`).toArray())}`).join("\n");
    });
    expect(dump).toContain("history_items");
    expect(dump).toContain("privacy_check");
    expect(dump).toMatch(/"bucket":\d+/); // the flushed counters are in the scan too
    expect(leaks(dump)).toEqual([]);
  });

  it("the needles would be found if they were stored (the scan is not blind)", () => {
    expect(leaks(`{"key":"v:ip:198.51.100.77"}`)).toEqual(["198.51.100.77", "198.51.100."]);
    expect(leaks(`PRIVACY.PERSON+RESET@EXAMPLE.ORG`)).toEqual(["privacy.person", "example.org"]);
  });
});
