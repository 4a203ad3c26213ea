// The local counters that stand in for the store while it is down (src/store/fallback.ts):
// the adapters' window, rate-limit and penalty semantics, in bounded memory.
import { describe, expect, it } from "vitest";
import { LocalCounters } from "../../src/store/fallback.ts";
import { escalate, readPenalty } from "../../src/store/penalty.ts";
import { rateLimitDecision } from "../../src/store/window.ts";

const MIN = 60_000;
/** The start of a minute bucket, so window edges are where the test puts them. */
const T = Math.floor(1_800_000_000_000 / (10 * MIN)) * 10 * MIN;
const policy = { baseMs: MIN, factor: 2, maxMs: 60 * MIN, decayMs: 60 * MIN };
const limit = (key: string, n: number, windowMs = MIN) => ({ key, limit: n, windowMs, cache: true });

describe("LocalCounters", () => {
  it("counts hits one after another: a token recorded twice reads 1, a replay reads 3", () => {
    const c = new LocalCounters();
    const hit = { key: "cap:t", windowMs: 15 * MIN };
    expect(c.observe({ now: T, hits: [hit, hit] }).counts).toEqual([1, 2]);
    expect(c.observe({ now: T + 1000, hits: [hit, hit] }).counts).toEqual([3, 4]);
  });

  it("a limit lets `limit` through, then fails without consuming, as the adapters decide", () => {
    const c = new LocalCounters();
    const results = Array.from({ length: 25 }, () => c.observe({ now: T, hits: [], limits: [limit("ip", 20)] }).limits[0]);
    expect(results.filter((r) => r?.success)).toHaveLength(20);
    expect(results.slice(20).every((r) => r?.success === false && r.remaining === 0 && r.reset === T + MIN)).toBe(true);
  });

  it("slides like the adapters: the previous bucket is weighted by its overlap", () => {
    const c = new LocalCounters();
    for (let i = 0; i < 20; i++) c.observe({ now: T, hits: [], limits: [limit("ip", 20)] });
    // Half-way through the next bucket, the previous 20 weigh 10: ten more get through.
    const now = T + MIN + MIN / 2;
    const got = Array.from({ length: 12 }, () => c.observe({ now, hits: [], limits: [limit("ip", 20)] }).limits[0]?.success);
    expect(got.filter(Boolean)).toHaveLength(10);
    expect(c.observe({ now, hits: [], limits: [limit("ip", 20)] }).limits[0]).toEqual(rateLimitDecision(now, 20, MIN, 10, 20).result);
  });

  it("keeps limits apart by key, limit and window", () => {
    const c = new LocalCounters();
    for (let i = 0; i < 3; i++) c.observe({ now: T, hits: [], limits: [limit("a", 3)] });
    const r = c.observe({ now: T, hits: [], limits: [limit("a", 3), limit("b", 3), limit("a", 4), limit("a", 3, 2 * MIN)] }).limits;
    expect(r.map((x) => x.success)).toEqual([false, true, true, true]);
  });

  it("boxes a penalised key with the adapters' escalation and decay", () => {
    const c = new LocalCounters();
    expect(c.observe({ now: T, hits: [], penalties: [{ key: "ip", policy, cache: true }] }).penalties).toEqual([{ level: 0, until: 0 }]);
    const first = c.penalize({ key: "ip", now: T, policy });
    expect(first).toEqual(escalate(null, T, policy).state);
    const second = c.penalize({ key: "ip", now: T + 2 * MIN, policy });
    expect(second).toEqual({ level: 2, until: T + 2 * MIN + 2 * MIN });
    const later = T + 5 * MIN;
    expect(c.observe({ now: later, hits: [], penalties: [{ key: "ip", policy, cache: true }] }).penalties[0]).toEqual(
      readPenalty(second, later, policy),
    );
  });

  it("lifts a penalty box: box, level and the ladder's windows forgotten, other keys kept", () => {
    const c = new LocalCounters();
    for (let i = 0; i < 3; i++) c.observe({ now: T, hits: [], limits: [limit("ip", 2)] });
    c.penalize({ key: "pen:ip", now: T, policy });
    c.penalize({ key: "pen:ip", now: T + 1, policy });
    c.penalize({ key: "pen:other", now: T, policy });
    const read = (key: string) => c.observe({ now: T + 2, hits: [], limits: [], penalties: [{ key, policy, cache: true }] }).penalties[0];
    expect(read("pen:ip")?.level).toBe(2);
    expect(c.lift({ now: T + 2, penalties: ["pen:ip", "pen:none"], limits: [limit("ip", 2)] })).toBe(1);
    expect(read("pen:ip")).toEqual({ level: 0, until: 0 });
    expect(read("pen:other")).toEqual({ level: 1, until: T + MIN });
    expect(c.observe({ now: T + 2, hits: [], limits: [limit("ip", 2)] }).limits[0]).toMatchObject({ success: true, remaining: 1 });
  });

  it("stays within its capacity under a flood of distinct keys, dropping the least recently used", () => {
    const c = new LocalCounters(100);
    const hot = { key: "hot", windowMs: 10 * MIN };
    for (let i = 0; i < 10_000; i++) {
      c.observe({ now: T, hits: [{ key: `k${i}`, windowMs: 10 * MIN }], limits: [limit(`ip${i}`, 5)] });
      if (i % 10 === 0) c.observe({ now: T, hits: [hot] });
      expect(c.size).toBeLessThanOrEqual(100);
    }
    // The key in steady use survived the flood.
    expect(c.observe({ now: T, hits: [hot] }).counts[0]).toBe(1001);
  });

  it("forgets a bucket once it can no longer count, before anything still in use", () => {
    const c = new LocalCounters(2);
    const w = (key: string) => ({ key, windowMs: MIN });
    const [old, b, d] = [w("old"), w("b"), w("d")];
    c.observe({ now: T, hits: [old] });
    const later = T + 3 * MIN;
    c.observe({ now: later, hits: [b] });
    // Full: the expired bucket goes, not the live one that is older in use than `d`.
    c.observe({ now: later, hits: [d] });
    expect(c.size).toBe(2);
    expect(c.observe({ now: later, hits: [b] }).counts).toEqual([2]);
  });

  it("refuses a capacity that cannot hold anything", () => {
    expect(() => new LocalCounters(0)).toThrow(RangeError);
  });
});
