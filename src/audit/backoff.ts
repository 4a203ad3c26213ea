/**
 * Retry schedule for remote sinks: exponential with full jitter, capped, so a sink
 * that comes back is not hit by every retry at once. `random` is injected for tests.
 */

/** Backoff settings. */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The default: 1 s, 2 s, 4 s ... up to 5 minutes. */
export const DEFAULT_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 300_000 };

/** Delay before retry number `attempt` (1 = first retry), in [ceiling/2, ceiling]. */
export function backoffDelay(attempt: number, { baseMs, maxMs }: Backoff, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exponent);
  // Half fixed, half jitter: never retries sooner than half the schedule.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
