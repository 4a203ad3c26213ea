/**
 * Keyed hashing of identifiers. Every identifier (account, IP, subnet, device) passes
 * through here before it is used as a key, logged or sent anywhere.
 *
 * HMAC-SHA-256 by @noble/hashes, not WebCrypto: a request hashes up to six identifiers,
 * each message is one SHA-256 block, and the key's inner and outer pads are absorbed
 * once per isolate, so a hash is two compressions done synchronously. Six WebCrypto
 * calls cost about 12 µs each in workerd (a promise round trip and buffer copies per
 * call); the screen stage's two hashes were half its cost (docs/architecture.md,
 * "Performance"). test/unit/hmac.test.ts checks the output equals WebCrypto's HMAC.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64url } from "../shared/base64url.ts";

const encoder = new TextEncoder();

/** An HMAC-SHA-256 keyed hasher producing short, stable, URL-safe identifiers. */
export interface Hasher {
  /** `hash("account", "a@example.com")` → 22 base64url chars (128 bits). */
  hash(kind: string, value: string): Promise<string>;
}

/** Build a hasher from a secret; the key's pads are computed once. */
export async function createHasher(secret: string): Promise<Hasher> {
  const keyed = hmac.create(sha256, encoder.encode(secret));
  // One scratch state and output buffer, reset from the keyed state for every hash: a
  // clone allocated two hash objects per call. The work below is synchronous, so no two
  // hashes ever share the scratch at once.
  const scratch = keyed.clone();
  const mac = new Uint8Array(32);
  return {
    async hash(kind, value) {
      keyed._cloneInto(scratch);
      // The kind is part of the message so an IP and an account never share a key.
      scratch.update(encoder.encode(`${kind}\u0000${value}`)).digestInto(mac);
      return base64url(mac, 16);
    },
  };
}
