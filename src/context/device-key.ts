/**
 * Device identity: which key velocity and distinct counts see a device under, and how
 * many real devices may share that key (its strength). Reference: docs/signals.md
 * ("Device keys and their populations").
 *
 * - `cookie`: a valid signed device cookie. One browser profile: population 1.
 * - `network-fingerprint`: no valid cookie, so the browser's shape (User-Agent,
 *   Accept-Language, every low-entropy client hint, and the TLS fingerprint when the zone
 *   has Bot Management) *scoped to the client's network*: the IPv4 address or the IPv6
 *   /64. Only devices behind one address with the same browser build and language share
 *   it: 1-3 in a home, a handful behind a campus or carrier NAT. Small enough to count
 *   distinct accounts on.
 * - `shape`: the browser's shape alone (no usable address). Every iPhone on Safari 18 in
 *   en-US is one such key: thousands of people. Never strong enough to count accounts on.
 *
 * Pure: the context stage hashes what this returns.
 */
import type { ClientIp } from "./client-ip.ts";

/** How many devices a device key may stand for (docs/signals.md). */
export type DeviceKeyStrength = "cookie" | "network-fingerprint" | "shape";

/** Largest TLS fingerprint taken from request.cf (JA4 is 36 characters, JA3 hashes 32). */
const MAX_TLS_FINGERPRINT = 64;

/** The headers a browser's shape is made of; each capped, absent ones as "". */
export const SHAPE_HEADERS = [
  "sec-ch-ua",
  "sec-ch-ua-mobile",
  "sec-ch-ua-platform",
  "sec-ch-ua-platform-version",
  "sec-ch-ua-model",
  "sec-ch-ua-full-version-list",
  "sec-ch-ua-arch",
  "sec-ch-ua-bitness",
] as const;

const MAX_HINT = 256;

/**
 * The zone's TLS fingerprint (Bot Management: `cf.botManagement.ja4`, else `ja3Hash`),
 * or "" when the zone has none. Read defensively: `cf` is untyped input in development.
 */
export function tlsFingerprint(cf: unknown): string {
  if (typeof cf !== "object" || cf === null) return "";
  const bm = (cf as { botManagement?: unknown }).botManagement;
  if (typeof bm !== "object" || bm === null) return "";
  const { ja4, ja3Hash } = bm as { ja4?: unknown; ja3Hash?: unknown };
  const value = typeof ja4 === "string" && ja4 !== "" ? `ja4:${ja4}` : typeof ja3Hash === "string" && ja3Hash !== "" ? `ja3:${ja3Hash}` : "";
  return value.slice(0, MAX_TLS_FINGERPRINT);
}

/** The browser's shape: what every device of one browser build, language and platform shares. */
export function browserShape(headers: Headers, userAgent: string, acceptLanguage: string, tls: string): string {
  return [userAgent, acceptLanguage, ...SHAPE_HEADERS.map((h) => (headers.get(h) ?? "").slice(0, MAX_HINT)), tls].join("\u0000");
}

/**
 * The network a fingerprint is scoped to: the address for IPv4 (a home's NAT, or one
 * carrier NAT address), the /64 for IPv6 (one home or phone; privacy addresses rotate
 * inside it). Null without a usable address.
 */
export function fingerprintNetwork(ip: ClientIp | null): string | null {
  if (ip === null) return null;
  return ip.version === 4 ? ip.address : ip.subnet;
}

/**
 * What to hash for the velocity key, and its strength. `cookieValid` wins: the cookie is
 * the device. Otherwise the shape on its network, or the bare shape without one.
 */
export function deviceKeyMaterial(
  cookieValid: boolean,
  shape: string,
  ip: ClientIp | null,
): { strength: DeviceKeyStrength; material: string | null } {
  if (cookieValid) return { strength: "cookie", material: null };
  const network = fingerprintNetwork(ip);
  if (network === null) return { strength: "shape", material: `shape:${shape}` };
  return { strength: "network-fingerprint", material: `netfp:${network}\u0000${shape}` };
}
