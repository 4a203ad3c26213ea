// The Durable Object adapter's own promises: subrequests per reset request (one per
// shard touched; exactly one with the default single shard; none when the ephemeral
// cache answers), and the alarm that reclaims expired rows.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WorkerEnv as Env } from "../../src/gateway/env.ts";
import type { RiskgateStore } from "../../src/store/durable-object.ts";
import type { StoreNamespace } from "../../src/store/durable-object-store.ts";
import type { ObserveRequest } from "../../src/store/port.ts";
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

describe("Durable Object adapter: expiry", () => {
  it("the alarm deletes expired rows and keeps live ones", async () => {
    const store = durableObjectHarness.make();
    const [old, live] = [uniqueKey("old"), uniqueKey("live")];
    await store.observe({ now: Date.now() - 3_600_000, hits: [{ key: old, windowMs: 60_000 }], distinct: [], historyKey: null });
    await store.observe({ now: Date.now(), hits: [{ key: live, windowMs: 60_000 }], distinct: [], historyKey: null });
    const stub: DurableObjectStub<RiskgateStore> = env.RISKGATE_STORE.get(env.RISKGATE_STORE.idFromName("shard-0"));
    const rows = () =>
      runInDurableObject(stub, (_i, state) =>
        state.storage.sql
          .exec<{ key: string }>("SELECT key FROM hits WHERE key IN (?, ?)", `${old}:60000`, `${live}:60000`)
          .toArray()
          .map((r) => r.key),
      );
    expect((await rows()).sort()).toEqual([`${live}:60000`, `${old}:60000`].sort());
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows()).toEqual([`${live}:60000`]);
  });
});
