/**
 * The ephemeral block cache: keys this isolate already knows to be blocked, with the
 * epoch ms at which the block ends. A request carrying such a key is answered without
 * a store call. Keys follow @upstash/ratelimit's `prefix:identifier` format and its
 * "blocked while reset >= now" rule (as its `ephemeralCache` does), and the cache is
 * bounded so that a flood of distinct keys cannot grow an isolate's memory.
 */
import { makeRoom } from "./make-room.ts";
import type { CachedBlock, ObserveRequest, ObserveResult, PenaltyCheck, PenaltyLift, RateLimitCheck } from "./port.ts";

/** Default number of blocked keys remembered per isolate. */
export const BLOCK_CACHE_CAPACITY = 10_000;

/** A bounded Map of key → blocked-until (epoch ms). */
export class BlockCache extends Map<string, number> {
  private readonly capacity: number;

  constructor(capacity = BLOCK_CACHE_CAPACITY) {
    super();
    this.capacity = capacity;
  }

  /** Insert, evicting expired entries and then the oldest when full. */
  override set(key: string, until: number): this {
    // `capacity` is unset while Map's constructor runs.
    if (this.capacity !== undefined && !this.has(key) && this.size >= this.capacity) {
      const now = Date.now();
      makeRoom(this, this.capacity, (until) => until < now);
    }
    return super.set(key, until);
  }

  /** The end of the block on `key`, or null when it is not blocked at `now`. */
  blockedUntil(key: string, now: number): number | null {
    const until = this.get(key);
    if (until === undefined) return null;
    if (until < now) {
      this.delete(key);
      return null;
    }
    return until;
  }
}

/** The ratelimit prefix for a check: limit and window are part of the identity. */
export function rateLimitPrefix(check: Pick<RateLimitCheck, "limit" | "windowMs">): string {
  return `rg:rl:${check.limit}:${check.windowMs}`;
}

/** The cache key @upstash/ratelimit uses for a check (`prefix:identifier`). */
export function rateLimitCacheKey(check: RateLimitCheck): string {
  return `${rateLimitPrefix(check)}:${check.key}`;
}

/** The cache key for a penalty box. */
export function penaltyCacheKey(check: Pick<PenaltyCheck, "key">): string {
  return `rg:p:${check.key}`;
}

/** The first key of `request` this isolate already knows to be blocked, if any. */
export function findCachedBlock(cache: BlockCache, request: Pick<ObserveRequest, "now" | "limits" | "penalties">): CachedBlock | null {
  // Nothing blocked (an isolate's usual state): no key to build. It runs twice per reset
  // (the screen, then the store's observe), ~35 keys of ~100 characters each time.
  if (cache.size === 0) return null;
  for (const check of request.limits ?? []) {
    if (!check.cache) continue;
    const until = cache.blockedUntil(rateLimitCacheKey(check), request.now);
    if (until !== null) return { key: check.key, kind: "rate-limit", until };
  }
  for (const check of request.penalties ?? []) {
    if (!check.cache) continue;
    // Stored one ms early: a box is active while now < until, the cache rule is now <= value.
    const until = cache.blockedUntil(penaltyCacheKey(check), request.now);
    if (until !== null) return { key: check.key, kind: "penalty", until: until + 1 };
  }
  return null;
}

/** Remember the blocks an observe discovered, for the checks that asked for it. */
export function rememberBlocks(cache: BlockCache, request: ObserveRequest, result: ObserveResult): void {
  (request.limits ?? []).forEach((check, i) => {
    const r = result.limits[i];
    if (check.cache && r !== undefined && !r.success) cache.set(rateLimitCacheKey(check), r.reset);
  });
  (request.penalties ?? []).forEach((check, i) => {
    const p = result.penalties[i];
    if (check.cache && p !== undefined && p.until > request.now) cache.set(penaltyCacheKey(check), p.until - 1);
  });
}

/** The answer to a request short-circuited by the cache: nothing read, nothing counted. */
export function blockedResult(blocked: CachedBlock): ObserveResult {
  return { counts: [], distinct: [], history: null, limits: [], penalties: [], blocked };
}

/** Forget this isolate's cached blocks for a lift's keys (an operator lifted them). */
export function forgetBlocks(cache: BlockCache, lift: PenaltyLift): void {
  for (const key of lift.penalties) cache.delete(penaltyCacheKey({ key }));
  for (const check of lift.limits) cache.delete(`${rateLimitPrefix(check)}:${check.key}`);
}
