/**
 * Audit event ids: UUIDv7 (RFC 9562, section 5.7), the event's time in ms in the first 48
 * bits and 74 random bits after it, so ids made later sort later as text. The audit hub
 * stores events under a unique index on the id (dedupe of retried batches, lookups by id):
 * with random (v4) ids every insert landed on a random page of that index, which was most
 * of the hub's cost per event; with time-ordered ids a batch's inserts land at the index's
 * end (BENCHMARKS.md, "The audit hub per event"). Only event ids are made here: decision,
 * request and source ids stay random v4 (a decision id reaches the client, and its time
 * would tell when the store call returned).
 */

/** A UUIDv7 for an event at `ms` (epoch ms; clamped to the 48 bits the format holds). */
export function eventId(ms: number): string {
  // crypto.randomUUID gives 122 random bits in the v4 layout; the first 48 become the time,
  // the version nibble becomes 7, and the variant bits (position 19) are already RFC 9562's.
  const random = crypto.randomUUID();
  const t = Math.min(Math.max(Math.floor(ms), 0), 0xffff_ffff_ffff);
  const hex = t.toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${random.slice(15)}`;
}
