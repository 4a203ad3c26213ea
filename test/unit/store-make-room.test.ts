import { describe, expect, it } from "vitest";
import { BlockCache } from "../../src/store/ephemeral.ts";
import { LocalCounters } from "../../src/store/fallback.ts";
import { makeRoom, roomTarget } from "../../src/store/make-room.ts";

const T = 1_800_000_000_000;
const FOREVER = Number.MAX_SAFE_INTEGER;

describe("makeRoom (the bounded caches' eviction)", () => {
  it("drops the expired entries wherever they sit, then the oldest, down to the target", () => {
    const map = new Map<string, number>();
    for (let i = 0; i < 40; i++) map.set(`k${i}`, i % 10 === 5 ? 0 : FOREVER);
    makeRoom(map, 40, (v) => v === 0);
    // 4 expired (k5, k15, k25, k35) freed more than a twentieth (2): nothing live is dropped.
    expect(map.size).toBe(36);
    expect(map.has("k0")).toBe(true);
    for (let i = 40; i < 44; i++) map.set(`k${i}`, FOREVER);
    makeRoom(map, 40, (v) => v === 0);
    // 40 live: the two oldest go (k0, k1), down to the target.
    expect(map.size).toBe(roomTarget(40));
    expect([...map.keys()].slice(0, 2)).toEqual(["k2", "k3"]);
    expect(map.has("k43")).toBe(true);
  });

  it("frees at least one entry, and a twentieth of a large capacity", () => {
    expect(roomTarget(1)).toBe(0);
    expect(roomTarget(2)).toBe(1);
    expect(roomTarget(20_000)).toBe(19_000);
  });

  it("costs a flood of new keys one scan per twentieth of the capacity, not one per insert", () => {
    // A cache's put loop at capacity, counting the entries each pass looks at.
    const capacity = 1_000;
    const map = new Map<string, number>();
    let looked = 0;
    const inserts = 20_000;
    for (let i = 0; i < capacity + inserts; i++) {
      if (map.size >= capacity) makeRoom(map, capacity, () => (looked++, false));
      map.set(`k${i}`, FOREVER);
      expect(map.size).toBeLessThanOrEqual(capacity);
    }
    // One pass per 50 inserts, each looking at the 1,000 entries: ~20 per insert. A pass per
    // insert (the eviction before 2026-12-03) looked at 1,000 per insert.
    expect(looked / inserts).toBeLessThanOrEqual(21);
  });
});

describe("the caches that use it", () => {
  it("local counters: a new key at capacity frees a twentieth of it, oldest first", () => {
    const c = new LocalCounters(100);
    const hit = (key: string) => ({ now: T, hits: [{ key, windowMs: 60_000 }] });
    for (let i = 0; i < 100; i++) c.observe(hit(`k${i}`));
    expect(c.size).toBe(100);
    c.observe(hit("k0")); // k0 is now the most recently used
    c.observe(hit("new"));
    expect(c.size).toBe(96);
    expect(c.observe(hit("k0")).counts).toEqual([3]);
    // k1..k5 were the least recently used: they start again from 1.
    expect(c.observe(hit("k1")).counts).toEqual([1]);
  });

  it("block cache: a new block at capacity frees a twentieth of it, oldest first, expired before", () => {
    const blocks = new BlockCache(100);
    blocks.set("expired", 1);
    for (let i = 0; i < 99; i++) blocks.set(`b${i}`, FOREVER);
    blocks.set("new", FOREVER);
    // Full at 100: the expired entry and the 4 oldest live ones went.
    expect(blocks.size).toBe(96);
    expect(blocks.has("expired")).toBe(false);
    expect(blocks.has("b3")).toBe(false);
    expect(blocks.has("b4")).toBe(true);
    expect(blocks.has("new")).toBe(true);
  });
});
