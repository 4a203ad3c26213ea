// Security issue #13 item 11: a flood of distinct requests must not grow a store shard
// without bound (the 10 GB per-object limit, the object's memory). The shard's caps are
// lowered on an object of its own so the flood is small; the mechanism is the shipped one.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { RiskgateStore } from "../../src/store/durable-object.ts";
import { DurableObjectStore, type StoreNamespace } from "../../src/store/durable-object-store.ts";
import type { ObserveRequest } from "../../src/store/port.ts";
import { TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";

const CAP = 400;

/** A request shaped like a reset: every key new (a flood of distinct emails, IPs, devices). */
function distinctRequest(now: number): ObserveRequest {
  const id = crypto.randomUUID().replace(/-/g, "");
  const policy = { baseMs: 60_000, factor: 2, maxMs: 3_600_000, decayMs: 86_400_000 };
  return {
    now,
    hits: ["account", "ip", "subnet", "device", "asn", "global"].map((k) => ({ key: k === "global" ? "v:global" : `v:${k}:${id}`, windowMs: 600_000 })),
    distinct: ["ip:account", "device:account", "account:ip"].map((d) => ({ key: `d:${d}:${id}`, member: id, windowMs: 3_600_000 })),
    limits: [0, 1, 2].map((i) => ({ key: `rl:${i}:${id}`, limit: 5, windowMs: 600_000, cache: false })),
    penalties: [{ key: `p:${id}`, policy, cache: false }],
    historyKey: `h:${id}`,
  };
}

describe("store shard size under a flood of distinct requests", () => {
  it("stays under its row cap in memory and in SQLite, still counts the hot key, and says it is near the cap", async () => {
    const stub = env.RISKGATE_STORE.get(env.RISKGATE_STORE.idFromName(`flood-${crypto.randomUUID()}`));
    await runInDurableObject(stub, (instance) => {
      (instance as RiskgateStore).caps.counterRows = CAP;
    });
    const namespace: StoreNamespace = { idFromName: () => stub.id, get: () => stub };
    const store = new DurableObjectStore({ namespace, timeoutMs: TEST_STORE_TIMEOUT_MS });
    const now = Date.now();
    const rows = async () =>
      runInDurableObject(stub, (_i, state) =>
        state.storage.sql.exec<{ c: number }>("SELECT (SELECT count(*) FROM counter_hits) + (SELECT count(*) FROM counter_members) AS c").one().c,
      );
    const flood = async (n: number) => {
      let last = 0;
      for (let i = 0; i < n; i++) last = (await store.observe(distinctRequest(now))).counts[5] ?? 0;
      return last;
    };
    // 100 requests of 12 counter rows each: three times the cap.
    const log = vi.spyOn(console, "log");
    const global1 = await flood(100);
    await runDurableObjectAlarm(stub);
    const stats1 = await stub.stats();
    expect(stats1.counterRows).toBeLessThanOrEqual(CAP);
    expect(stats1.evicted).toBeGreaterThan(0);
    expect(await rows()).toBeLessThanOrEqual(CAP);
    const size1 = stats1.databaseSize;
    // The same again: rows stay capped and the file does not keep growing with them
    // (freed pages are reused; a little slack for SQLite's page bookkeeping).
    const global2 = await flood(100);
    await runDurableObjectAlarm(stub);
    const stats2 = await stub.stats();
    expect(stats2.counterRows).toBeLessThanOrEqual(CAP);
    expect(await rows()).toBeLessThanOrEqual(CAP);
    expect(stats2.databaseSize).toBeLessThanOrEqual(size1 * 1.5);
    // The key every request touches is the most recently used: never evicted, its count runs on.
    expect([global1, global2]).toEqual([100, 200]);
    const lines = log.mock.calls.map((c) => String(c[0]));
    log.mockRestore();
    expect(lines.some((l) => l.includes('"riskgate.store_evicting"'))).toBe(true);
    expect(lines.some((l) => l.includes('"riskgate.store_near_cap"'))).toBe(true);
  });
});
