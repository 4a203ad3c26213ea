// The hasher (@noble/hashes HMAC-SHA-256 with the key's pads absorbed once) must give
// exactly what WebCrypto's HMAC gives, truncated to 128 bits and base64url-encoded:
// identifiers already in stores and logs depend on it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createHasher } from "../../src/context/hmac.ts";

async function webCrypto(secret: string, kind: string, value: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(`${kind}\u0000${value}`)));
  return Buffer.from(mac.subarray(0, 16)).toString("base64url");
}

describe("hasher", () => {
  it("matches WebCrypto HMAC-SHA-256 for any secret, kind and value", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Secrets shorter and longer than SHA-256's 64-byte block (a long key is hashed first).
        fc.string({ minLength: 1, maxLength: 100 }),
        fc.constantFrom("account", "ip", "subnet", "device"),
        // Values across the one-block boundary (55 bytes) and beyond, unicode included.
        fc.string({ maxLength: 200, unit: "grapheme" }),
        async (secret, kind, value) => {
          const hasher = await createHasher(secret);
          expect(await hasher.hash(kind, value)).toBe(await webCrypto(secret, kind, value));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is stable across calls with one key (the pads are cloned, never consumed)", async () => {
    const hasher = await createHasher("s3cret");
    const first = await hasher.hash("ip", "192.0.2.1");
    await hasher.hash("ip", "192.0.2.2");
    expect(await hasher.hash("ip", "192.0.2.1")).toBe(first);
    expect(await hasher.hash("subnet", "192.0.2.1")).not.toBe(first);
    expect(first).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
