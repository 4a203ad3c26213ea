/**
 * Dashboard sessions for the bearer-secret method: after a login with the token the
 * browser holds a signed, expiring cookie scoped to /__riskgate, so the token itself is
 * never stored in the browser. The MAC key is derived from the token: rotating the
 * token ends every session.
 */
import { equalBytes } from "../shared/constant-time.ts";
import { base64url } from "../shared/base64url.ts";

/** Cookie name and lifetime. */
export const SESSION_COOKIE = "riskgate_admin";
export const SESSION_TTL_SECONDS = 8 * 60 * 60;

const encoder = new TextEncoder();

/** Issues and checks session values. */
export interface Sessions {
  issue(nowSeconds: number): Promise<string>;
  valid(value: string, nowSeconds: number): Promise<boolean>;
}

/** Build from the admin token. */
export async function createSessions(token: string): Promise<Sessions> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(`riskgate-admin-session\u0000${token}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = async (payload: string) =>
    base64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(payload))));
  return {
    async issue(nowSeconds) {
      const payload = `v1.${nowSeconds + SESSION_TTL_SECONDS}`;
      return `${payload}.${await mac(payload)}`;
    },
    async valid(value, nowSeconds) {
      const match = /^(v1\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(value);
      if (match === null) return false;
      const [, payload = "", expiry = "0", given = ""] = match;
      const expected = await mac(payload);
      return equalBytes(encoder.encode(given), encoder.encode(expected)) && Number(expiry) > nowSeconds;
    },
  };
}
