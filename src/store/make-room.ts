/**
 * Room in a full in-memory cache (a Map kept in least-recently-used order: insertion order,
 * with a touched key re-inserted). One pass drops what has expired, then the oldest keys,
 * until a twentieth of the capacity is free, so a flood of new keys (a botnet's addresses,
 * an outage's new counters) pays one scan per that many inserts instead of a scan of the
 * whole cache per insert (measured: `node bench/caches.mjs`, BENCHMARKS.md).
 */

/** Share of the capacity one pass frees. */
export const FREED_PER_PASS = 1 / 20;

/** The size a pass leaves a cache of `capacity` at (at least one entry freed). */
export function roomTarget(capacity: number): number {
  return capacity - Math.max(1, Math.floor(capacity * FREED_PER_PASS));
}

/** Drop the expired entries of `map`, then its oldest, until it holds at most `roomTarget(capacity)`. */
export function makeRoom<V>(map: Map<string, V>, capacity: number, expired: (value: V) => boolean): void {
  for (const [key, value] of map) if (expired(value)) map.delete(key);
  const target = roomTarget(capacity);
  // Deleting the entry being visited is safe in a Map's iteration; the first keys are the oldest.
  for (const key of map.keys()) {
    if (map.size <= target) return;
    map.delete(key);
  }
}
