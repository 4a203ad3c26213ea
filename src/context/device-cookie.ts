/**
 * The signed device cookie. Every scored response carries one (HttpOnly, Secure,
 * SameSite=Lax, `__Host-` prefixed so no subdomain can plant or overwrite it); a
 * browser that returns it is recognised as the same device. The value is a random id
 * and an HMAC over it with the account secret (domain-separated by the hasher's kind),
 * so an attacker can neither forge an id nor adopt a victim's known device without
 * stealing the cookie itself.
 */
import { base64url } from "../shared/base64url.ts";
import type { Hasher } from "./hmac.ts";

/** Cookie name. `__Host-` requires Secure, Path=/ and no Domain (browsers enforce it). */
export const DEVICE_COOKIE = "__Host-riskgate-device";
/** Browsers cap cookie lifetime at 400 days; the cookie is re-issued on every scored response. */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 24 * 3600;
/** Longest Cookie header read; longer headers are cut before parsing. */
export const MAX_COOKIE_HEADER_CHARS = 8192;

const VALUE = /^v1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/;

/** What the request presented. */
export type CookieState = "absent" | "valid" | "invalid";

/** The device cookie of a request: its state and the device id in effect for the response. */
export interface DeviceCookie {
  readonly state: CookieState;
  /** The presented id when valid, else a freshly minted one (sent back in `setCookie`). */
  readonly id: string;
  /** The `Set-Cookie` header value for the response. */
  readonly setCookie: string;
}

/** The raw value of our cookie in a Cookie header (first occurrence), or null. */
export function findCookie(header: string | null): string | null {
  if (header === null) return null;
  for (const part of header.slice(0, MAX_COOKIE_HEADER_CHARS).split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === DEVICE_COOKIE) return part.slice(eq + 1).trim();
  }
  return null;
}

/** A new random device id: 128 bits, base64url. */
export function newDeviceId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/** Compare two strings in time independent of where they differ. */
function equalConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The signed cookie value for `id`. */
export async function signDeviceId(id: string, hasher: Hasher): Promise<string> {
  return `v1.${id}.${await hasher.hash("device-cookie", id)}`;
}

/** The verified id of a cookie value, or null when it is malformed or its MAC is wrong. */
export async function verifyDeviceCookie(value: string, hasher: Hasher): Promise<string | null> {
  const m = VALUE.exec(value);
  if (m?.[1] === undefined || m[2] === undefined) return null;
  const expected = await hasher.hash("device-cookie", m[1]);
  return equalConstantTime(expected, m[2]) ? m[1] : null;
}

/** The `Set-Cookie` header for a signed value. */
export function setCookieHeader(value: string): string {
  return `${DEVICE_COOKIE}=${value}; Max-Age=${DEVICE_COOKIE_MAX_AGE_SECONDS}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

/** Read the request's cookie and decide the id and Set-Cookie for the response. */
export async function deviceCookie(headers: Headers, hasher: Hasher, mint: () => string = newDeviceId): Promise<DeviceCookie> {
  const raw = findCookie(headers.get("cookie"));
  const verified = raw === null ? null : await verifyDeviceCookie(raw, hasher);
  const state: CookieState = raw === null ? "absent" : verified === null ? "invalid" : "valid";
  // Re-issued even when valid, so the 400-day lifetime slides with use; a valid value is
  // re-sent as is (same id, same MAC), which saves an HMAC.
  if (verified !== null && raw !== null) return { state, id: verified, setCookie: setCookieHeader(raw) };
  const id = mint();
  return { state, id, setCookie: setCookieHeader(await signDeviceId(id, hasher)) };
}

/** Add the device cookie to a response (scored routes only; every verdict alike). */
export function withDeviceCookie(response: Response, cookie: DeviceCookie): Response {
  response.headers.append("set-cookie", cookie.setCookie);
  return response;
}
