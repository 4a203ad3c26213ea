/**
 * Constant-time comparison of secrets. Both sides are hashed first so the comparison
 * always runs over 32 bytes: neither the position of the first difference nor the
 * length of the expected secret shows in the timing.
 */

const encoder = new TextEncoder();

/** SHA-256 of a string. */
async function digest(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
}

/** XOR-accumulate over equal-length arrays: no early exit. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** True when `given` equals `expected`, compared in constant time. */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  return equalBytes(a, b);
}
