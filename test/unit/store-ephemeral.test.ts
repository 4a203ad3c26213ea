import { describe, expect, it } from "vitest";
import {
  BlockCache,
  blockedResult,
  findCachedBlock,
  penaltyCacheKey,
  rateLimitCacheKey,
  rememberBlocks,
} from "../../src/store/ephemeral.ts";
import type { ObserveRequest, ObserveResult } from "../../src/store/port.ts";

const T = 1_800_000_000_000;
const policy = { baseMs: 1000, factor: 2, maxMs: 8000, decayMs: 60_000 };

function request(cache: boolean): ObserveRequest {
  return {
    now: T,
    hits: [],
    distinct: [],
    historyKey: null,
    limits: [{ key: "ip1", limit: 5, windowMs: 60_000, cache }],
    penalties: [{ key: "ip1", policy, cache }],
  };
}

const failed: ObserveResult = {
  counts: [],
  distinct: [],
  history: null,
  limits: [{ success: false, remaining: 0, reset: T + 30_000 }],
  penalties: [{ level: 1, until: T + 5000 }],
  blocked: null,
};

describe("ephemeral block cache", () => {
  it("uses @upstash/ratelimit's key format (prefix:identifier)", () => {
    expect(rateLimitCacheKey({ key: "abc", limit: 5, windowMs: 60_000, cache: true })).toBe("rg:rl:5:60000:abc");
    expect(penaltyCacheKey({ key: "abc" })).toBe("rg:p:abc");
  });

  it.each([
    ["remembers failures of checks that ask for it", true, "rate-limit"],
    ["ignores checks that do not", false, null],
  ])("%s", (_label, cache, kind) => {
    const blocks = new BlockCache();
    rememberBlocks(blocks, request(cache), failed);
    const found = findCachedBlock(blocks, request(cache));
    expect(found?.kind ?? null).toBe(kind);
    if (found !== null) expect(found).toEqual({ key: "ip1", kind: "rate-limit", until: T + 30_000 });
  });

  it("reports a cached penalty box until it ends, and not at its end", () => {
    const blocks = new BlockCache();
    const onlyPenalty = { ...request(true), limits: [] };
    rememberBlocks(blocks, onlyPenalty, failed);
    expect(findCachedBlock(blocks, { ...onlyPenalty, now: T + 4999 })).toEqual({ key: "ip1", kind: "penalty", until: T + 5000 });
    expect(findCachedBlock(blocks, { ...onlyPenalty, now: T + 5000 })).toBeNull();
  });

  it("forgets a block once it has passed", () => {
    const blocks = new BlockCache();
    blocks.set("k", T);
    expect(blocks.blockedUntil("k", T)).toBe(T);
    expect(blocks.blockedUntil("k", T + 1)).toBeNull();
    expect(blocks.has("k")).toBe(false);
  });

  it("stays bounded: expired entries go first, then the oldest", () => {
    const blocks = new BlockCache(3);
    blocks.set("expired", 1);
    blocks.set("a", Number.MAX_SAFE_INTEGER);
    blocks.set("b", Number.MAX_SAFE_INTEGER);
    blocks.set("c", Number.MAX_SAFE_INTEGER);
    expect([...blocks.keys()]).toEqual(["a", "b", "c"]);
    blocks.set("d", Number.MAX_SAFE_INTEGER);
    expect([...blocks.keys()]).toEqual(["b", "c", "d"]);
    expect(blocks.size).toBe(3);
  });

  it("a short-circuited result carries nothing but the block", () => {
    const block = { key: "k", kind: "penalty" as const, until: T };
    expect(blockedResult(block)).toEqual({ counts: [], distinct: [], history: null, limits: [], penalties: [], blocked: block });
  });
});
