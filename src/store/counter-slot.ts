/**
 * Where the store Durable Object keeps a counter entry in memory (src/store/durable-object.ts):
 * a 30-bit slot hashed from the entry's kind, row key and bucket, computed without building
 * the row key. Slots may collide; the object checks the row key on every match.
 */
/** FNV-1a's offset basis: the start of every row key's hash. */
export const HASH_SEED = 0x811c9dc5;
const COLON = 58;

/** FNV-1a (32 bit) over `text`'s UTF-16 code units, continuing from `hash`. */
export function hashChars(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** `hashChars` of the row key `a:b`, without building it. */
export function rowKeyHash(a: string, b: string): number {
  return hashChars(Math.imul(hashChars(HASH_SEED, a) ^ COLON, 0x01000193), b);
}

/**
 * An entry's key in `counters`: its kind, row key (`hash`) and bucket mixed (murmur3's
 * finaliser) into 30 bits, a small integer V8 keeps in the Map's table itself.
 */
export function slotOf(kind: "h" | "m", hash: number, bucket: number): number {
  let h = Math.imul(hash ^ (bucket | 0), 0x01000193) ^ (kind === "h" ? 0 : 0x5bd1e995) ^ Math.floor(bucket / 0x100000000);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 2;
}

/** Whether `key` is `a:b`. */
export function isRowKey(key: string, a: string, b: string): boolean {
  return key.length === a.length + 1 + b.length && key.charCodeAt(a.length) === COLON && key.startsWith(a) && key.endsWith(b);
}
