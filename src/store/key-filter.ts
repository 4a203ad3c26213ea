/**
 * A Bloom filter over strings: "definitely not added" or "maybe added". The Durable
 * Object store keeps one over the accounts that have history, so a reset for an account
 * with none (a new account, or a flood of made-up ones) skips the SQL read.
 *
 * Fixed memory (`bits` / 8 bytes), no false negatives; nothing is ever removed, so keys
 * whose rows expired stay "maybe" (that only costs the read they cost before). With the
 * defaults (2²³ bits = 1 MB, 4 probes) and the shard's 500,000 history rows, at most
 * ~0.2 % of absent keys read SQL anyway.
 */
export class KeyFilter {
  private readonly words: Uint32Array;
  private readonly mask: number;

  /** `bits`: a power of two. */
  constructor(
    bits = 1 << 23,
    private readonly probes = 4,
  ) {
    if (!Number.isInteger(Math.log2(bits)) || bits < 32) throw new Error("bits must be a power of two, at least 32");
    this.words = new Uint32Array(bits >>> 5);
    this.mask = bits - 1;
  }

  add(key: string): void {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < this.probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.words[bit >>> 5] = (this.words[bit >>> 5] ?? 0) | (1 << (bit & 31));
    }
  }

  mightHave(key: string): boolean {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < this.probes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if (((this.words[bit >>> 5] ?? 0) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two 32-bit hashes of one pass (FNV-1a and a multiplicative one; the second odd), for double hashing. */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, (b | 1) >>> 0];
}
