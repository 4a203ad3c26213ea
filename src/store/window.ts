/**
 * Sliding-window arithmetic shared by every adapter, so that both give the same
 * answer for the same hits (the contract suite checks this). It is the two-bucket
 * approximation @upstash/ratelimit uses: the current fixed bucket plus the previous
 * bucket weighted by how much of it still overlaps the window.
 */

/** The fixed bucket `now` falls in. */
export function bucketOf(now: number, windowMs: number): number {
  return Math.floor(now / windowMs);
}

/** Sliding count from the current and previous bucket counts. */
export function slidingCount(now: number, windowMs: number, current: number, previous: number): number {
  const elapsed = (now % windowMs) / windowMs;
  return current + Math.floor(previous * (1 - elapsed));
}

/** How long a bucket must live: until the end of the window after it. */
export function bucketTtlMs(windowMs: number): number {
  return windowMs * 2;
}
