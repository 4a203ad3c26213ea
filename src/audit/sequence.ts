/**
 * Gap detection for receivers. Every source (isolate) numbers its events 1, 2, 3 ...
 * with no holes, so a number missing between two received ones is a lost event.
 * Delivery is at least once and not ordered: duplicates and reordering are not gaps.
 */

/** What a receiver needs from an event (native `source`/`seq`, or OCSF metadata). */
export interface Sequenced {
  readonly source: string;
  readonly seq: number;
}

/** A run of missing sequence numbers from one source, inclusive. */
export interface Gap {
  readonly source: string;
  readonly from: number;
  readonly to: number;
}

/** Missing numbers per source, between 1 and the highest received. */
export function findGaps(events: Iterable<Sequenced>): Gap[] {
  const bySource = new Map<string, Set<number>>();
  for (const { source, seq } of events) {
    let seen = bySource.get(source);
    if (seen === undefined) {
      seen = new Set();
      bySource.set(source, seen);
    }
    seen.add(seq);
  }
  const gaps: Gap[] = [];
  for (const [source, seen] of bySource) {
    let expected = 1;
    for (const seq of [...seen].sort((a, b) => a - b)) {
      if (seq > expected) gaps.push({ source, from: expected, to: seq - 1 });
      expected = seq + 1;
    }
  }
  return gaps;
}
