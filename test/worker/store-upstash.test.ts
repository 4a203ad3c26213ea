// Round trips on the Upstash adapter, counted by the bridge: one HTTP request to Redis
// for an allowed reset request (whatever the batch holds), zero for a key already
// blocked in the isolate's ephemeral cache.
import { Redis } from "@upstash/redis/cloudflare";
import { afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { ObserveRequest, PenaltyPolicy } from "../../src/store/port.ts";
import { postReset, upstashGateway } from "./gateway-harness.ts";
import { alignedFuture, bridgeStats, uniqueKey, upstashHarness } from "./store-harness.ts";

const bridge = inject("redis");
const suite = bridge === null ? describe.skip : describe;
const MIN = 60_000;
const policy: PenaltyPolicy = { baseMs: 1000, factor: 2, maxMs: 60_000, decayMs: MIN };

/** A batch with every kind of operation the port has. */
function fullBatch(now: number): ObserveRequest {
  const id = uniqueKey("rt");
  return {
    now,
    hits: [1, 10, 60].map((m) => ({ key: `${id}:h`, windowMs: m * MIN })),
    distinct: [{ key: `${id}:d`, member: "m", windowMs: MIN }],
    historyKey: `${id}:h`,
    limits: [
      { key: `${id}:l1`, limit: 5, windowMs: MIN, cache: true },
      { key: `${id}:l2`, limit: 50, windowMs: 10 * MIN, cache: false },
    ],
    penalties: [{ key: `${id}:p`, policy, cache: true }],
  };
}

/** Run `work` and return how many HTTP requests (and commands) the bridge saw for `tag`. */
async function traffic(tag: string, work: () => Promise<unknown>): Promise<{ requests: number; commands: number }> {
  const before = await bridgeStats(tag);
  await work();
  const after = await bridgeStats(tag);
  return { requests: after.requests - before.requests, commands: after.commands - before.commands };
}

async function roundTrips(tag: string, work: () => Promise<unknown>): Promise<number> {
  return (await traffic(tag, work)).requests;
}

afterEach(() => {
  vi.useRealTimers();
});

suite("Upstash adapter round trips", () => {
  beforeAll(() => {
    if (bridge === null) throw new Error("unreachable");
  });

  it("costs one round trip for a full observe batch once scripts are loaded", async () => {
    const tag = `rt-${crypto.randomUUID()}`;
    const store = upstashHarness.make({ tag });
    await store.observe(fullBatch(alignedFuture())); // loads the scripts if Redis lacks them
    // One script in one request: observe decides the rate-limit checks too.
    expect(await traffic(tag, () => store.observe(fullBatch(alignedFuture())))).toEqual({ requests: 1, commands: 1 });
  });

  it("pays for loading scripts only after Redis lost them (EVALSHA -> NOSCRIPT -> EVAL)", async () => {
    if (bridge === null) return;
    const tag = `cold-${crypto.randomUUID()}`;
    const store = upstashHarness.make({ tag });
    const admin = new Redis({ url: bridge.url, token: bridge.token, enableTelemetry: false, enableAutoPipelining: false });
    await admin.scriptFlush();
    const cold = await traffic(tag, () => store.observe(fullBatch(alignedFuture())));
    const warm = await traffic(tag, () => store.observe(fullBatch(alignedFuture())));
    // Cold: the EVALSHA answered NOSCRIPT, then the EVAL that loads the script.
    expect(cold).toEqual({ requests: 2, commands: 2 });
    expect(warm).toEqual({ requests: 1, commands: 1 });
  });

  it("costs zero round trips for a key already blocked by a cached rate limit", async () => {
    const tag = `zero-${crypto.randomUUID()}`;
    const store = upstashHarness.make({ tag });
    const now = alignedFuture();
    vi.useFakeTimers({ toFake: ["Date"], now });
    const request = { ...fullBatch(now), limits: [{ key: uniqueKey("z"), limit: 1, windowMs: MIN, cache: true }] };
    expect(await roundTrips(tag, () => store.observe(request))).toBe(1); // allowed
    expect(await roundTrips(tag, () => store.observe(request))).toBe(1); // fails, now cached
    let blocked: unknown;
    expect(await roundTrips(tag, async () => (blocked = (await store.observe(request)).blocked))).toBe(0);
    expect(blocked).toMatchObject({ kind: "rate-limit" });
  });

  it("costs zero round trips for a key in a cached penalty box", async () => {
    const tag = `zero-${crypto.randomUUID()}`;
    const store = upstashHarness.make({ tag });
    const now = alignedFuture();
    const key = uniqueKey("box");
    await store.penalize({ key, now, policy });
    const request = { now, hits: [], distinct: [], historyKey: null, penalties: [{ key, policy, cache: true }] };
    expect(await roundTrips(tag, () => store.observe(request))).toBe(1);
    expect(await roundTrips(tag, () => store.observe(request))).toBe(0);
  });

  it("costs one round trip for an allowed reset request through the whole gateway", async () => {
    if (bridge === null) return;
    const tag = `gw-${crypto.randomUUID()}`;
    const { gateway, lines } = await upstashGateway(bridge, tag);
    await postReset(gateway, { email: "warm-up@example.com" });
    const seen = await traffic(tag, async () => {
      const res = await postReset(gateway, { email: "one-trip@example.com" });
      expect(res.status).toBe(202);
    });
    // One request, one command: the observe script counts windows and distinct members,
    // reads history and penalty boxes, and decides the 8 rate-limit ladder steps of the
    // shipped rules (account 2, ip 2, subnet 2, device 1, global 1; no ASN ladder without geo).
    expect(seen).toEqual({ requests: 1, commands: 1 });
    expect(lines.at(-1)).toMatchObject({ verdict: "allow", action: "forwarded", errors: [] });
  });
});
