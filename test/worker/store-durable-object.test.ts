// The Durable Object adapter's own promises: subrequests per reset request (one per
// shard touched; exactly one with the default single shard; none when the ephemeral
// cache answers), and the alarm that reclaims expired rows.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WorkerEnv as Env } from "../../src/gateway/env.ts";
import type { RiskgateStore } from "../../src/store/durable-object.ts";
import type { StoreNamespace } from "../../src/store/durable-object-store.ts";
import type { ObserveRequest } from "../../src/store/port.ts";
import { rowKeyHash, slotOf } from "../../src/store/counter-slot.ts";
import { packBatch, type ShardBatch, type ShardResult, unpackResult, type WireBatch, type WireResult } from "../../src/store/shard-wire.ts";
import { postReset, testGateway } from "./gateway-harness.ts";
import { alignedFuture, durableObjectHarness, uniqueKey } from "./store-harness.ts";

/** The real binding, counting every RPC made on the stubs it hands out, by shard name. */
function countingNamespace(): { namespace: StoreNamespace; calls: string[] } {
  const real = env.RISKGATE_STORE;
  const calls: string[] = [];
  const names = new Map<string, string>();
  const namespace: StoreNamespace = {
    idFromName: (name) => {
      const id = real.idFromName(name);
      names.set(id.toString(), name);
      return id;
    },
    get: (id) => {
      const stub = real.get(id);
      const name = names.get(id.toString()) ?? "?";
      return new Proxy(stub, {
        get: (target, prop) => {
          const value = Reflect.get(target, prop);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            calls.push(`${name}.${String(prop)}`);
            // RPC methods are called unbound: applying them to the stub would try to serialise it.
            return (value as (...a: unknown[]) => unknown)(...args);
          };
        },
      });
    },
  };
  return { namespace, calls };
}

/** Independent FNV-1a, so the test does not trust the adapter's own shard function. */
function expectedShard(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (const ch of key) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193);
  return shards === 1 ? 0 : (h >>> 0) % shards;
}

/** A batch shaped like the shipped rules' reset request: 12 distinct keys. */
function resetShapedBatch(): ObserveRequest {
  const id = crypto.randomUUID().replace(/-/g, "");
  const keys = ["account", "ip", "subnet", "device", "asn"].map((k) => `v:${k}:${id}${k}`);
  return {
    now: alignedFuture(),
    hits: [...keys, "v:global:global"].map((key) => ({ key, windowMs: 600_000 })),
    distinct: ["ip:account", "subnet:account", "device:account", "account:ip", "account:device"].map((d) => ({
      key: `d:${d}:${id}`,
      member: id,
      windowMs: 3_600_000,
    })),
    historyKey: `h:${id}`,
  };
}

describe("Durable Object adapter: sharding and subrequests", () => {
  it.each([1, 2, 4, 8, 16])("with %i shard(s): one RPC per distinct shard the batch touches", async (shards) => {
    const { namespace, calls } = countingNamespace();
    const store = durableObjectHarness.make({ namespace, shards });
    const batch = resetShapedBatch();
    await store.observe(batch);
    const keys = [...batch.hits, ...batch.distinct].map((op) => op.key).concat(batch.historyKey ?? []);
    const expected = new Set(keys.map((k) => `shard-${expectedShard(k, shards)}.observe`));
    expect(calls.sort()).toEqual([...expected].sort());
    expect(calls.length).toBeLessThanOrEqual(Math.min(shards, 12));
  });

  it("a reset request through the gateway costs exactly one subrequest with the default single shard", async () => {
    const { namespace, calls } = countingNamespace();
    const { gateway } = await testGateway({ RISKGATE_STORE: namespace as unknown as Env["RISKGATE_STORE"] });
    expect((await postReset(gateway, { email: "one-sub@example.com" })).status).toBe(202);
    // One call before the response; after it (waitUntil) a new isolate's first reset also
    // reads the running experiment's tallies once (refreshed at most every 10 s).
    expect(calls).toEqual(["shard-0.observe", "shard-0.readTallies"]);
  });

  it("a key blocked in the ephemeral cache costs no subrequest", async () => {
    const { namespace, calls } = countingNamespace();
    const store = durableObjectHarness.make({ namespace });
    const request = { ...resetShapedBatch(), limits: [{ key: uniqueKey("l"), limit: 1, windowMs: 60_000, cache: true }] };
    await store.observe(request);
    await store.observe(request);
    expect(calls).toHaveLength(2);
    expect((await store.observe(request)).blocked).not.toBeNull();
    expect(calls).toHaveLength(2);
  });
});

/** A store object of its own (not `shard-N`), so a test can lower its caps without touching other tests. */
/** One shard's observe as the adapter makes it: packed for the wire, answers unpacked. */
async function observeShard(target: { observe(batch: WireBatch): Promise<WireResult> }, batch: ShardBatch): Promise<ShardResult> {
  return unpackResult(batch, await target.observe(packBatch(batch)));
}

function ownObject(label: string): DurableObjectStub<RiskgateStore> {
  return env.RISKGATE_STORE.get(env.RISKGATE_STORE.idFromName(`${label}-${crypto.randomUUID()}`));
}

const sqlRows = (stub: DurableObjectStub<RiskgateStore>, query: string, ...args: unknown[]) =>
  runInDurableObject(stub, (_i, state) => state.storage.sql.exec(query, ...args).toArray());

describe("Durable Object adapter: expiry", () => {
  it("the alarm deletes expired rows and keeps live ones", async () => {
    const stub = ownObject("expiry");
    const [old, live] = [uniqueKey("old"), uniqueKey("live")];
    // A row a previous instance flushed and that has since expired (an id far above the
    // ones this instance hands out: it numbered its rows when it started).
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("INSERT INTO counter_hits (id, key, bucket, n, expires) VALUES (1e9, ?, 1, 1, ?)", `${old}:60000`, Date.now() - 1);
    });
    await observeShard(stub, { now: Date.now(), hits: [{ key: live, windowMs: 60_000 }], distinct: [], limits: [], penalties: [], historyKey: null });
    const rows = async () =>
      (await sqlRows(stub, "SELECT key FROM counter_hits WHERE key IN (?, ?)", `${old}:60000`, `${live}:60000`)).map((r) => r.key);
    // Write-behind: the live count is still only in memory.
    expect(await rows()).toEqual([`${old}:60000`]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows()).toEqual([`${live}:60000`]);
  });
});

describe("Durable Object adapter: in memory, written behind", () => {
  const policy = { baseMs: 60_000, factor: 2, maxMs: 3_600_000, decayMs: 86_400_000 };
  const batch = (now: number, key: string, member: string) => ({
    now,
    hits: [{ key, windowMs: 600_000 }],
    distinct: [{ key, member, windowMs: 600_000 }],
    limits: [{ key, limit: 10, windowMs: 600_000, cache: false }],
    penalties: [{ key, policy, cache: false }],
    historyKey: null,
  });

  it("a reset-shaped batch runs no SQL statement, bar one history read once the account has history; the flush batches rows", async () => {
    const stub = ownObject("statements");
    const statements: string[] = [];
    await runInDurableObject(stub, (instance) => {
      const target = instance as unknown as { sql: SqlStorage };
      const sql = target.sql;
      target.sql = new Proxy(sql, {
        get: (t, p) =>
          p === "exec"
            ? (query: string, ...args: unknown[]) => {
                statements.push(query);
                return t.exec(query, ...args);
              }
            : Reflect.get(t, p),
      });
    });
    const shaped = { ...resetShapedBatch(), now: Date.now(), limits: [], penalties: [] };
    // An account with no history (a new one, or a made-up one in a flood): no SQL at all.
    await observeShard(stub, shaped);
    expect(statements).toHaveLength(0);
    await runDurableObjectAlarm(stub);
    // 6 windows in one INSERT, 5 distinct members in another, plus the first sweep's statements.
    expect(statements.filter((q) => q.startsWith("INSERT"))).toHaveLength(2);
    // Once the account has history, its reset reads it: one statement.
    const historyKey = shaped.historyKey ?? "";
    await stub.recordHistory({ historyKey, device: "d1", country: "DE", asn: 3320, location: null, at: Date.now() });
    statements.length = 0;
    const again = await observeShard(stub, { now: Date.now(), hits: [], distinct: [], limits: [], penalties: [], historyKey });
    expect(statements).toHaveLength(1);
    expect(again.history?.devices).toEqual(["d1"]);
  });

  it("a roster lookup reads SQL only for a key that may be listed: none while the roster is off or for a key never added", async () => {
    const stub = ownObject("roster-statements");
    const statements: string[] = [];
    await runInDurableObject(stub, (instance) => {
      const target = instance as unknown as { sql: SqlStorage };
      const sql = target.sql;
      target.sql = new Proxy(sql, {
        get: (t, p) =>
          p === "exec"
            ? (query: string, ...args: unknown[]) => {
                statements.push(query);
                return t.exec(query, ...args);
              }
            : Reflect.get(t, p),
      });
    });
    const [member, stranger] = [uniqueKey("listed"), uniqueKey("stranger")];
    const lookup = async (rosterKey: string) =>
      (await observeShard(stub, { now: Date.now(), hits: [], distinct: [], limits: [], penalties: [], historyKey: null, rosterKey })).roster;
    expect(await lookup(member)).toBe("off");
    expect(statements).toHaveLength(0);
    await stub.updateRoster({ add: [member], remove: [], loaded: true, at: Date.now() });
    statements.length = 0;
    expect(await lookup(stranger)).toBe("absent");
    expect(statements).toHaveLength(0);
    expect(await lookup(member)).toBe("listed");
    expect(statements).toHaveLength(1);
    // Removed: the filter still says "maybe", the statement says absent.
    await stub.updateRoster({ add: [], remove: [member], loaded: null, at: Date.now() });
    expect(await lookup(member)).toBe("absent");
    await stub.updateRoster({ add: [], remove: [], loaded: false, at: Date.now() });
    expect(await lookup(stranger)).toBe("off");
  });

  it("a restarted object answers the roster as the previous instance left it (marker and keys reload)", async () => {
    const stub = ownObject("roster-reload");
    const [member, stranger] = [uniqueKey("listed"), uniqueKey("stranger")];
    await stub.updateRoster({ add: [member], remove: [], loaded: true, at: Date.now() });
    const answers = await runInDurableObject(stub, async (instance, state) => {
      const Store = instance.constructor as new (ctx: DurableObjectState, env: unknown) => RiskgateStore;
      const fresh = new Store(state, env);
      const lookup = async (rosterKey: string) =>
        (await observeShard(fresh, { now: Date.now(), hits: [], distinct: [], limits: [], penalties: [], historyKey: null, rosterKey })).roster;
      return [await lookup(member), await lookup(stranger)];
    });
    expect(answers).toEqual(["listed", "absent"]);
  });

  it("a restarted object still reads the history a previous instance wrote (its filter of accounts reloads)", async () => {
    const stub = ownObject("history-reload");
    const historyKey = uniqueKey("h");
    await stub.recordHistory({ historyKey, device: "d1", country: "NL", asn: 1136, location: null, at: Date.now() });
    const history = await runInDurableObject(stub, async (instance, state) => {
      const Store = instance.constructor as new (ctx: DurableObjectState, env: unknown) => RiskgateStore;
      const fresh = new Store(state, env);
      return (await observeShard(fresh, { now: Date.now(), hits: [], distinct: [], limits: [], penalties: [], historyKey })).history;
    });
    expect(history?.countries).toEqual(["NL"]);
  });

  it("counters and boxes reload after the object restarts (flushed first); the next hits count on", async () => {
    const stub = ownObject("reload");
    const key = uniqueKey("r");
    const now = Date.now();
    await observeShard(stub, batch(now, key, "a"));
    await observeShard(stub, batch(now, key, "b"));
    await stub.penalize({ key, now, policy });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // A new instance over the same storage, as after eviction or a deploy.
    const second = await runInDurableObject(stub, async (instance, state) => {
      const Store = instance.constructor as new (ctx: DurableObjectState, env: unknown) => RiskgateStore;
      const fresh = new Store(state, env);
      return observeShard(fresh, { ...batch(now, key, "c"), limits: [{ key, limit: 10, windowMs: 600_000, cache: false }] });
    });
    expect(second.counts).toEqual([3]);
    expect(second.distinct).toEqual([3]);
    expect(second.limits[0]?.remaining).toBe(10 - 3);
    expect(second.penalties[0]?.level).toBe(1);
  });

  it("a set's members added after a flush, and after a restart, are each written once and reload", async () => {
    const stub = ownObject("members");
    // A key that needs JSON escaping in the flush's rows.
    const key = `${uniqueKey("m")}"\\é`;
    const now = Date.now();
    const members = () =>
      sqlRows(stub, "SELECT key, member FROM counter_members ORDER BY id").then((rows) => rows.map((r) => `${String(r.key)}|${String(r.member)}`));
    const hits = () => sqlRows(stub, "SELECT key, n FROM counter_hits ORDER BY id").then((rows) => rows.map((r) => `${String(r.key)}|${String(r.n)}`));
    await observeShard(stub, batch(now, key, "a"));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await members()).toEqual([`${key}:600000|a`]);
    // The set was flushed: its next member is the only new row, and "a" is not written again.
    expect((await observeShard(stub, batch(now, key, "b"))).distinct).toEqual([2]);
    expect((await observeShard(stub, batch(now, key, "a"))).distinct).toEqual([2]);
    await runDurableObjectAlarm(stub);
    expect(await members()).toEqual([`${key}:600000|a`, `${key}:600000|b`]);
    expect(await hits()).toEqual([`${key}:600000|3`, `rg:rl:10:600000:${key}|3`]);
    // A new instance: the reloaded set takes a new member, which the next flush writes.
    await runInDurableObject(stub, async (instance, state) => {
      const Store = instance.constructor as new (ctx: DurableObjectState, env: unknown) => RiskgateStore;
      const fresh = new Store(state, env);
      expect((await observeShard(fresh, batch(now, key, "c"))).distinct).toEqual([3]);
      await (fresh as unknown as { alarm(): Promise<void> }).alarm();
    });
    expect(await members()).toEqual([`${key}:600000|a`, `${key}:600000|b`, `${key}:600000|c`]);
    expect(await hits()).toEqual([`${key}:600000|4`, `rg:rl:10:600000:${key}|4`]);
  });

  it("counters of the first layout (hits, members keyed by key and bucket) move to the id-keyed tables when the object starts", async () => {
    const stub = ownObject("migrate");
    const [key, dead] = [uniqueKey("m"), uniqueKey("dead")];
    const now = Date.now();
    const windowMs = 600_000;
    const bucket = Math.floor(now / windowMs);
    const expires = (bucket + 2) * windowMs;
    await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE hits (key TEXT, bucket INTEGER, n INTEGER, expires INTEGER, PRIMARY KEY (key, bucket))");
      sql.exec("CREATE TABLE members (key TEXT, bucket INTEGER, member TEXT, expires INTEGER, PRIMARY KEY (key, bucket, member))");
      sql.exec("INSERT INTO hits VALUES (?, ?, 4, ?), (?, ?, 9, ?)", `${key}:${windowMs}`, bucket, expires, `${dead}:${windowMs}`, bucket, now - 1);
      sql.exec("INSERT INTO members VALUES (?, ?, 'a', ?), (?, ?, 'b', ?)", `${key}:${windowMs}`, bucket, expires, `${key}:${windowMs}`, bucket, expires);
    });
    const answer = await runInDurableObject(stub, async (instance, state) => {
      const Store = instance.constructor as new (ctx: DurableObjectState, env: unknown) => RiskgateStore;
      const fresh = new Store(state, env);
      return observeShard(fresh, { now, hits: [{ key, windowMs }], distinct: [{ key, member: "c", windowMs }], limits: [], penalties: [], historyKey: null });
    });
    expect(answer.counts).toEqual([5]);
    expect(answer.distinct).toEqual([3]);
    const tables = (await sqlRows(stub, "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('hits', 'members')")).length;
    expect(tables).toBe(0);
    expect((await sqlRows(stub, "SELECT key, n FROM counter_hits")).map((r) => [r.key, r.n])).toEqual([[`${key}:${windowMs}`, 4]]);
    expect(await sqlRows(stub, "SELECT count(*) AS c FROM counter_members")).toEqual([{ c: 2 }]);
  });

  it("the row cap holds: the least recently touched counters go first, the newest are still counted", async () => {
    const stub = ownObject("cap");
    await runInDurableObject(stub, (instance) => {
      (instance as RiskgateStore).caps.counterRows = 50;
    });
    const now = Date.now();
    const keys = Array.from({ length: 120 }, (_, i) => uniqueKey(`k${i}`));
    const hit = async (key: string) =>
      (await observeShard(stub, { now, hits: [{ key, windowMs: 600_000 }], distinct: [], limits: [], penalties: [], historyKey: null })).counts[0];
    const held: number[] = [];
    for (const key of keys) {
      expect(await hit(key)).toBe(1);
      held.push((await stub.stats()).counterRows);
    }
    const stats = await stub.stats();
    expect(stats.counterRows).toBeLessThanOrEqual(50);
    // Once over the cap, a pass frees 5 % of it (down to 47), not one row per request:
    // each pass walks the Map over the entries deleted since V8 last rehashed it.
    expect(Math.max(...held)).toBe(50);
    expect(Math.min(...held.slice(50))).toBe(47);
    expect(stats.evicted).toBeGreaterThanOrEqual(70);
    await runDurableObjectAlarm(stub);
    const stored = (await sqlRows(stub, "SELECT key FROM counter_hits")).map((r) => String(r.key));
    expect(stored.length).toBeLessThanOrEqual(50);
    expect(stored).toContain(`${keys.at(-1)}:600000`);
    expect(stored).not.toContain(`${keys[0]}:600000`);
    // The newest key is still counted; the oldest starts over.
    expect(await hit(keys.at(-1) ?? "")).toBe(2);
    expect(await hit(keys[0] ?? "")).toBe(1);
  });

  it("counters whose 30-bit slots collide count apart, flush, reload and are evicted like any other", async () => {
    const stub = ownObject("collide");
    const now = alignedFuture();
    const windowMs = 600_000;
    const bucket = Math.floor(now / windowMs);
    const window = String(windowMs);
    // Two keys of each kind whose entries share a slot in `counters` (a birthday search: ~40,000 keys).
    const collide = (kind: "h" | "m", label: string, rowKey: (key: string) => [string, string]): [string, string] => {
      const seen = new Map<number, string>();
      const base = uniqueKey(label);
      for (let i = 0; ; i++) {
        const key = `${base}:${i}`;
        const slot = slotOf(kind, rowKeyHash(...rowKey(key)), bucket);
        const other = seen.get(slot);
        if (other !== undefined) return [other, key];
        seen.set(slot, key);
      }
    };
    const [hitA, hitB] = collide("h", "hit", (key) => [key, window]);
    const [setA, setB] = collide("m", "set", (key) => [key, window]);
    const [limitA, limitB] = collide("h", "limit", (key) => [`rg:rl:10:${window}`, key]);
    const shard = (members: [string, string]) => ({
      now,
      hits: [hitA, hitB].map((key) => ({ key, windowMs })),
      distinct: [
        { key: setA, member: members[0], windowMs },
        { key: setB, member: members[1], windowMs },
      ],
      limits: [limitA, limitB].map((key) => ({ key, limit: 10, windowMs, cache: false })),
      penalties: [],
      historyKey: null,
    });
    const collided = (instance: RiskgateStore) => (instance as unknown as { collided: Map<number, unknown[]> }).collided.size;
    const first = await observeShard(stub, shard(["x", "y"]));
    expect([first.counts, first.distinct, first.limits.map((l) => l.remaining)]).toEqual([[1, 1], [1, 1], [9, 9]]);
    expect(await runInDurableObject(stub, (instance) => collided(instance as RiskgateStore))).toBe(3);
    const second = await observeShard(stub, shard(["y", "x"]));
    expect([second.counts, second.distinct, second.limits.map((l) => l.remaining)]).toEqual([[2, 2], [2, 2], [8, 8]]);
    expect((await stub.stats()).counterRows).toBe(2 + 4 + 2);
    // Each entry is its own row, under its own key.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const hits = await sqlRows(stub, "SELECT key, bucket, n FROM counter_hits ORDER BY key");
    expect(hits.map((r) => [r.key, r.bucket, r.n])).toEqual(
      [`${hitA}:${window}`, `${hitB}:${window}`, `rg:rl:10:${window}:${limitA}`, `rg:rl:10:${window}:${limitB}`].sort().map((key) => [key, bucket, 2]),
    );
    const members = await sqlRows(stub, "SELECT key, member FROM counter_members ORDER BY key, member");
    expect(members.map((r) => `${String(r.key)}|${String(r.member)}`)).toEqual(
      [`${setA}:${window}|x`, `${setA}:${window}|y`, `${setB}:${window}|x`, `${setB}:${window}|y`].sort(),
    );
    // A new instance over the same storage reloads both entries of every slot.
    const reloaded = await runInDurableObject(stub, async (instance, state) => {
      const Store = instance.constructor as new (ctx: DurableObjectState, env: unknown) => RiskgateStore;
      const fresh = new Store(state, env);
      return { answer: await observeShard(fresh, shard(["z", "x"])), collided: collided(fresh) };
    });
    expect(reloaded.collided).toBe(3);
    expect([reloaded.answer.counts, reloaded.answer.distinct, reloaded.answer.limits.map((l) => l.remaining)]).toEqual([[3, 3], [3, 2], [7, 7]]);
    // At the row cap the collided entries leave too (each takes its slot when the holder
    // goes, then is walked like any other): all of them start over.
    await runInDurableObject(stub, (instance) => {
      (instance as RiskgateStore).caps.counterRows = 20;
    });
    for (let i = 0; i < 100; i++) await observeShard(stub, { now, hits: [{ key: uniqueKey(`fill${i}`), windowMs }], distinct: [], limits: [], penalties: [], historyKey: null });
    expect(await runInDurableObject(stub, (instance) => collided(instance as RiskgateStore))).toBe(0);
    expect((await stub.stats()).counterRows).toBeLessThanOrEqual(20);
    const after = await observeShard(stub, shard(["x", "y"]));
    expect([after.counts, after.distinct, after.limits.map((l) => l.remaining)]).toEqual([[1, 1], [1, 1], [9, 9]]);
  });

  it("at the row cap a counter still being hit stays, though it was placed before every other", async () => {
    const stub = ownObject("cap-hot");
    await runInDurableObject(stub, (instance) => {
      (instance as RiskgateStore).caps.counterRows = 50;
    });
    const now = Date.now();
    const hot = uniqueKey("hot");
    const hit = async (key: string) =>
      (await observeShard(stub, { now, hits: [{ key, windowMs: 600_000 }], distinct: [], limits: [], penalties: [], historyKey: null })).counts[0];
    expect(await hit(hot)).toBe(1);
    const cold = Array.from({ length: 200 }, (_, i) => uniqueKey(`c${i}`));
    for (const [i, key] of cold.entries()) {
      await hit(key);
      // Hit again after every 10 new keys: a pass evicts 4 rows per 4 new keys, and an entry
      // given its second chance reaches the oldest end again only after ~47 others.
      if (i % 10 === 9) await hit(hot);
    }
    expect((await stub.stats()).evicted).toBeGreaterThanOrEqual(150);
    expect(await hit(hot)).toBe(2 + cold.length / 10);
    // The cold keys placed first are gone; the last one is still counted.
    expect(await hit(cold[0] ?? "")).toBe(1);
    expect(await hit(cold.at(-1) ?? "")).toBe(2);
  });
});
