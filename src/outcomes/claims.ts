/**
 * What the signals saw, carried in the decision token as the `seen` claim so that an
 * outcome echoing the token can teach history exactly that, with nothing stored at
 * decision time. Identifiers are HMAC'd; the location is rounded to 0.1° (about 11 km).
 */
import type { RequestContext } from "../context/index.ts";

/** The `seen` claim. */
export interface SeenClaims {
  /** Hashed id of the signed device cookie issued or recognised on this request. */
  readonly dev: string;
  readonly cc?: string;
  readonly asn?: number;
  /** [latitude, longitude], rounded. */
  readonly loc?: readonly [number, number];
}

const round = (v: number) => Math.round(v * 10) / 10;

/** The claim for a request context. */
export function seenClaims(ctx: RequestContext): SeenClaims {
  const geo = ctx.geo;
  return {
    dev: ctx.device.cookieKey,
    ...(geo !== null && geo.country !== "" ? { cc: geo.country } : {}),
    ...(geo !== null && geo.asn > 0 ? { asn: geo.asn } : {}),
    ...(geo?.lat != null && geo.lon != null ? { loc: [round(geo.lat), round(geo.lon)] as const } : {}),
  };
}

/** Read a `seen` claim back from a verified token; null when absent or malformed. */
export function parseSeen(value: unknown): SeenClaims | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.dev !== "string" || !/^[A-Za-z0-9_-]{22}$/.test(v.dev)) return null;
  const cc = typeof v.cc === "string" && /^[A-Z]{2}$/.test(v.cc) ? v.cc : undefined;
  const asn = typeof v.asn === "number" && Number.isInteger(v.asn) && v.asn > 0 ? v.asn : undefined;
  const loc = Array.isArray(v.loc) && v.loc.length === 2 && v.loc.every((n) => typeof n === "number" && Number.isFinite(n))
    ? ([v.loc[0], v.loc[1]] as [number, number])
    : undefined;
  return {
    dev: v.dev,
    ...(cc === undefined ? {} : { cc }),
    ...(asn === undefined ? {} : { asn }),
    ...(loc === undefined ? {} : { loc }),
  };
}
