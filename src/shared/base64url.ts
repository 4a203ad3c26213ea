/**
 * Unpadded base64url (RFC 4648 §5), the encoding of JWS segments and of riskgate's
 * hashed identifiers. workerd has `Uint8Array.prototype.toBase64` (native, about ten
 * times faster than a JS loop on a JWS payload); Node 20, where the CLI and unit tests
 * run, does not, so the portable loop stays. test/worker/base64url.test.ts checks the two
 * agree.
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

type WithToBase64 = Uint8Array & { toBase64?: (options: { alphabet: "base64url"; omitPadding: boolean }) => string };

const NATIVE = typeof (new Uint8Array(0) as WithToBase64).toBase64 === "function";

/** Unpadded base64url of `bytes` (of its first `length` bytes when given). */
export function base64url(bytes: Uint8Array, length = bytes.length): string {
  if (NATIVE) {
    const view = (length === bytes.length ? bytes : bytes.subarray(0, length)) as WithToBase64;
    return view.toBase64?.({ alphabet: "base64url", omitPadding: true }) ?? base64urlPortable(bytes, length);
  }
  return base64urlPortable(bytes, length);
}

/** The same in plain JS (exported for the agreement test). */
export function base64urlPortable(bytes: Uint8Array, length = bytes.length): string {
  let out = "";
  let i = 0;
  for (; i + 2 < length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63) + ALPHABET.charAt((n >> 6) & 63) + ALPHABET.charAt(n & 63);
  }
  const rest = length - i;
  if (rest === 1) {
    const n = (bytes[i] ?? 0) << 16;
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63);
  } else if (rest === 2) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63) + ALPHABET.charAt((n >> 6) & 63);
  }
  return out;
}
