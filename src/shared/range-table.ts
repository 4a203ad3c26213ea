/**
 * Sorted IP range tables: the one lookup structure behind local geo, ASN and IP
 * reputation lists. A table is a sorted array of segment starts (1, 2 or 4 big-endian
 * 32-bit words per key) and one value per segment; segment i covers [start i, start i+1).
 * A lookup is a binary search on typed arrays: no objects, no allocation, O(log n).
 *
 * On disk (in the Worker bundle) a table is delta-encoded varints, which gzip far better
 * than raw words; it is decoded once, lazily, into typed arrays (see `decodeTable`).
 */

/** Words per key: 1 for IPv4, 2 for IPv6 at /64 granularity, 4 for full IPv6. */
export type KeyWords = 1 | 2 | 4;

/** A decoded table. `values[i]` is 0 for "no entry". */
export interface RangeTable {
  readonly words: KeyWords;
  readonly count: number;
  readonly keys: Uint32Array;
  readonly values: Uint32Array;
}

/** An empty table of `words` words per key. */
export function emptyTable(words: KeyWords): RangeTable {
  return { words, count: 0, keys: new Uint32Array(0), values: new Uint32Array(0) };
}

/** Compare key i of `table` with `key` (first `table.words` words): <0, 0 or >0. */
function compareAt(table: RangeTable, i: number, key: ArrayLike<number>): number {
  const base = i * table.words;
  for (let w = 0; w < table.words; w++) {
    const a = table.keys[base + w] ?? 0;
    const b = key[w] ?? 0;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

/** The value of the segment containing `key`, or 0. */
export function lookupRange(table: RangeTable, key: ArrayLike<number>): number {
  let lo = 0;
  let hi = table.count - 1;
  let found = -1;
  if (table.words === 1) {
    const k = key[0] ?? 0;
    const keys = table.keys;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] ?? 0) <= k) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
  } else {
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareAt(table, mid, key) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
  }
  return found < 0 ? 0 : (table.values[found] ?? 0);
}

// ---- encoding (build time) ----

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function pushVarint(out: number[], value: bigint): void {
  if (value <= SAFE) {
    // Number arithmetic is far faster than BigInt, and most deltas are small.
    let n = Number(value);
    do {
      const low = n % 128;
      n = Math.floor(n / 128);
      out.push(n > 0 ? low | 0x80 : low);
    } while (n > 0);
    return;
  }
  let v = value;
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
}

/**
 * Encode segments (starts strictly increasing, as unsigned integers of `words` * 32 bits)
 * into the compact on-disk form.
 */
export function encodeTable(words: KeyWords, starts: readonly bigint[], values: readonly number[]): Uint8Array {
  if (starts.length !== values.length) throw new Error("starts and values differ in length");
  const out: number[] = [];
  pushVarint(out, BigInt(starts.length));
  pushVarint(out, BigInt(words));
  let previous = 0n;
  for (const start of starts) {
    if (start < previous) throw new Error("segment starts must be sorted");
    pushVarint(out, start - previous);
    previous = start;
  }
  for (const value of values) pushVarint(out, BigInt(value));
  return Uint8Array.from(out);
}

// ---- decoding (run time) ----

/** A cursor over varint bytes. */
class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  /** A varint of up to 53 bits as a number. */
  number(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.bytes[this.pos++];
      if (b === undefined) throw new Error("truncated table");
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
      if (scale > 2 ** 56) throw new Error("varint too long");
    }
  }

  /** A varint of up to 128 bits, least significant word first, into `acc` (zeroed here). */
  wide(acc: Uint32Array): void {
    acc.fill(0);
    // Fast path: most deltas fit in 49 bits (7 varint bytes) and number arithmetic.
    const start = this.pos;
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const b = this.bytes[this.pos++];
      if (b === undefined) throw new Error("truncated table");
      n += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        acc[0] = n % 0x100000000;
        if (acc.length > 1) acc[1] = Math.floor(n / 0x100000000);
        return;
      }
      scale *= 128;
    }
    this.pos = start;
    let shift = 0;
    for (;;) {
      const b = this.bytes[this.pos++];
      if (b === undefined) throw new Error("truncated table");
      const v = b & 0x7f;
      const w = shift >>> 5;
      const o = shift & 31;
      if (w < acc.length) acc[w] = ((acc[w] ?? 0) | (v << o)) >>> 0;
      if (o > 25 && w + 1 < acc.length) acc[w + 1] = ((acc[w + 1] ?? 0) | (v >>> (32 - o))) >>> 0;
      if ((b & 0x80) === 0) return;
      shift += 7;
      if (shift > 140) throw new Error("varint too long");
    }
  }
}

/** Decode the on-disk form produced by `encodeTable`. */
export function decodeTable(bytes: Uint8Array): RangeTable {
  // An absent section (e.g. geo data built with RISKGATE_GEO_DATA=none) is an empty table.
  if (bytes.byteLength === 0) return emptyTable(1);
  const r = new Reader(bytes);
  const count = r.number();
  const words = r.number();
  if (words !== 1 && words !== 2 && words !== 4) throw new Error(`bad key width ${words}`);
  const keys = new Uint32Array(count * words);
  const values = new Uint32Array(count);
  if (words === 1) {
    let key = 0;
    for (let i = 0; i < count; i++) {
      key += r.number();
      keys[i] = key;
    }
  } else {
    const delta = new Uint32Array(words);
    const prev = new Uint32Array(words);
    for (let i = 0; i < count; i++) {
      r.wide(delta);
      // prev (most significant word first) += delta (least significant word first)
      let carry = 0;
      for (let w = 0; w < words; w++) {
        const idx = words - 1 - w;
        const sum = (prev[idx] ?? 0) + (delta[w] ?? 0) + carry;
        prev[idx] = sum >>> 0;
        carry = sum > 0xffffffff ? 1 : 0;
      }
      keys.set(prev, i * words);
    }
  }
  for (let i = 0; i < count; i++) values[i] = r.number();
  return { words, count, keys, values };
}
