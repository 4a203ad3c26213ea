/**
 * The CAPTCHA pass: after a token is verified, a short-lived HMAC-signed value spares the
 * user a second challenge for `captcha.pass_ttl`. It is bound to the (hashed) client IP
 * and account: the MAC covers both, and neither is in the pass itself, so a pass
 * carried to another IP or used for another account simply does not verify, and the
 * pass reveals nothing. Format: `v1.<expiry, epoch seconds>.<base64url HMAC-SHA-256>`.
 *
 * It only spares CAPTCHA steps; 429s and penalty boxes still apply to its holder.
 */
import { base64url } from "../shared/base64url.ts";

const encoder = new TextEncoder();

/** What a pass is bound to: the request's hashed keys. */
export interface PassBinding {
  readonly ip: string | null;
  readonly account: string;
}

/** Issues and checks passes. */
export interface PassSigner {
  issue(binding: PassBinding, now: number): Promise<string>;
  verify(pass: string, binding: PassBinding, now: number): Promise<boolean>;
}

function message(expires: number, binding: PassBinding): Uint8Array {
  // Fields are NUL-separated and hashed keys never contain NUL, so no two bindings collide.
  return encoder.encode(`riskgate-pass\u0000v1\u0000${expires}\u0000${binding.ip ?? "-"}\u0000${binding.account}`);
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return null;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * Derive the pass key from a secret. With no dedicated `CAPTCHA_PASS_SECRET`, the
 * account HMAC secret is used under a label, so pass MACs and identifier hashes never
 * share a key.
 */
async function passKey(secret: string, derived: boolean): Promise<CryptoKey> {
  const hmac = { name: "HMAC", hash: "SHA-256" } as const;
  let material: Uint8Array<ArrayBuffer> = new Uint8Array(encoder.encode(secret));
  if (derived) {
    const parent = await crypto.subtle.importKey("raw", material, hmac, false, ["sign"]);
    material = new Uint8Array(await crypto.subtle.sign("HMAC", parent, encoder.encode("riskgate\u0000captcha-pass-key")));
  }
  return crypto.subtle.importKey("raw", material, hmac, false, ["sign", "verify"]);
}

/** A signer for passes that live `ttlMs`. `derived`: `secret` is the account HMAC secret. */
export async function createPassSigner(secret: string, ttlMs: number, derived: boolean): Promise<PassSigner> {
  const key = await passKey(secret, derived);
  return {
    async issue(binding, now) {
      const expires = Math.floor((now + ttlMs) / 1000);
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message(expires, binding)));
      return `v1.${expires}.${base64url(mac)}`;
    },
    async verify(pass, binding, now) {
      const match = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]+)$/.exec(pass);
      if (match === null) return false;
      const expires = Number(match[1]);
      const mac = fromBase64url(match[2] ?? "");
      // Expired, or living longer than the TTL allows (issued under a longer TTL): refused.
      if (mac === null || expires * 1000 <= now || expires * 1000 > now + ttlMs + 1000) return false;
      // crypto.subtle.verify compares in constant time.
      return crypto.subtle.verify("HMAC", key, mac, message(expires, binding));
    },
  };
}
