/**
 * Sliding-window arithmetic shared by every adapter, so that both give the same
 * answer for the same hits (the contract suite checks this). It is the two-bucket
 * approximation @upstash/ratelimit uses: the current fixed bucket plus the previous
 * bucket weighted by how much of it still overlaps the window.
 */
import type { RateLimitResult } from "./port.ts";

/** Grace after a bucket stops mattering, for clock skew between isolates. */
const EXPIRY_GRACE_MS = 1000;

/** The fixed bucket `now` falls in. */
export function bucketOf(now: number, windowMs: number): number {
  return Math.floor(now / windowMs);
}

/** The previous bucket's count, weighted by how much of it the window still covers. */
export function weightedPrevious(now: number, windowMs: number, previous: number): number {
  const elapsed = (now % windowMs) / windowMs;
  return Math.floor(previous * (1 - elapsed));
}

/** Sliding count from the current and previous bucket counts. */
export function slidingCount(now: number, windowMs: number, current: number, previous: number): number {
  return current + weightedPrevious(now, windowMs, previous);
}

/** When a bucket may be deleted: once it can no longer be anyone's previous bucket. */
export function bucketExpiresAt(bucket: number, windowMs: number): number {
  return (bucket + 2) * windowMs + EXPIRY_GRACE_MS;
}

/**
 * A sliding-window rate-limit check, as @upstash/ratelimit's `slidingWindow` script
 * decides it: fail without consuming when the weighted count has reached the limit.
 */
export function rateLimitDecision(
  now: number,
  limit: number,
  windowMs: number,
  current: number,
  previous: number,
): { readonly consume: boolean; readonly result: RateLimitResult } {
  const reset = (bucketOf(now, windowMs) + 1) * windowMs;
  const remaining = rateLimitRemaining(now, limit, windowMs, current, previous);
  if (remaining < 0) return { consume: false, result: { success: false, remaining: 0, reset } };
  return { consume: true, result: { success: true, remaining, reset } };
}

/**
 * `rateLimitDecision` as one number, for a caller that writes the answer into an array:
 * -1 when the check fails (nothing consumed), else what remains after consuming a unit.
 * The reset is `(bucketOf(now, windowMs) + 1) * windowMs` either way.
 */
export function rateLimitRemaining(now: number, limit: number, windowMs: number, current: number, previous: number): number {
  const weighted = weightedPrevious(now, windowMs, previous);
  if (weighted + current >= limit) return -1;
  return Math.max(0, limit - (current + 1 + weighted));
}
