/**
 * Keyed hashing of identifiers. Every identifier (account, IP, subnet, device) passes
 * through here before it is used as a key, logged or sent anywhere.
 */

const encoder = new TextEncoder();

/** An HMAC-SHA-256 keyed hasher producing short, stable, URL-safe identifiers. */
export interface Hasher {
  /** `hash("account", "a@example.com")` → 22 base64url chars (128 bits). */
  hash(kind: string, value: string): Promise<string>;
}

/** Build a hasher from a secret; the CryptoKey is imported once. */
export async function createHasher(secret: string): Promise<Hasher> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return {
    async hash(kind, value) {
      // The kind is part of the message so an IP and an account never share a key.
      const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${kind}\u0000${value}`));
      return base64url(new Uint8Array(mac, 0, 16));
    },
  };
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
