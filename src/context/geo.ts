/**
 * Where the request comes from. On Cloudflare the platform's `request.cf` is the best
 * source (maintained by Cloudflare); off Cloudflare, and first in development (where
 * wrangler dev's `request.cf` is one fixed value for every request), the local database
 * compiled at build answers, so traffic from different IPs gets realistic geo offline.
 * `GEO_SOURCE` overrides the choice (docs/signals.md).
 */
import { ConfigError } from "../shared/errors.ts";
import type { ClientIp } from "./client-ip.ts";
import type { LocalGeo, LocalGeoResult } from "./geo-local.ts";

/** Geo as the platform (request.cf) or the local database reports it. */
export interface GeoInput extends LocalGeoResult {
  /** Which source answered: `cf` or `local`. */
  readonly source: "cf" | "local";
}

/** The `GEO_SOURCE` setting. */
export type GeoSource = "auto" | "cf" | "local" | "off";

const SOURCES: readonly GeoSource[] = ["auto", "cf", "local", "off"];

/** Validate `GEO_SOURCE` once per isolate; unset means `auto`. */
export function readGeoSource(value: string | undefined): GeoSource {
  const v = (value ?? "auto").trim().toLowerCase() || "auto";
  if (!(SOURCES as readonly string[]).includes(v)) {
    throw new ConfigError(`GEO_SOURCE must be one of ${SOURCES.join(", ")}, not "${value}"`);
  }
  return v as GeoSource;
}

/** Geo from Cloudflare's `request.cf`, when the platform provides a country. */
export function geoFromCf(cf: IncomingRequestCfProperties | undefined): GeoInput | null {
  if (cf === undefined || typeof cf.country !== "string" || cf.country.length === 0) return null;
  const num = (v: unknown) => (typeof v === "string" || typeof v === "number" ? Number(v) : Number.NaN);
  const lat = num(cf.latitude);
  const lon = num(cf.longitude);
  return {
    country: cf.country,
    region: typeof cf.regionCode === "string" ? cf.regionCode : "",
    asn: typeof cf.asn === "number" ? cf.asn : 0,
    asOrg: typeof cf.asOrganization === "string" ? cf.asOrganization : "",
    lat: Number.isFinite(lat) ? lat : null,
    lon: Number.isFinite(lon) ? lon : null,
    source: "cf",
  };
}

/** Resolves geo for one request. */
export type GeoResolver = (cf: IncomingRequestCfProperties | undefined, ip: ClientIp | null) => GeoInput | null;

/**
 * Build the resolver. `auto`: in production request.cf, falling back to the local
 * database only when the platform gave no country; in development the local database,
 * falling back to request.cf for addresses it has no answer for (private, loopback,
 * documentation), so a test can still set request.cf explicitly. `local()` is called
 * lazily, so a Worker that never needs it never decodes it.
 */
export function createGeoResolver(
  source: GeoSource,
  development: boolean,
  local: () => LocalGeo | null,
  requireLocal = false,
): GeoResolver {
  const fromLocal = (ip: ClientIp | null): GeoInput | null => {
    if (ip === null) return null;
    const hit = local()?.lookup(ip) ?? null;
    return hit === null ? null : { ...hit, source: "local" };
  };
  const mode = source === "auto" ? (development ? "local-first" : "cf-first") : source;
  // When every request needs the database, decode it now rather than in the middle of a
  // request, where it would delay that request's store call.
  // Decoding here also moves that cost to isolate start. Only an explicit GEO_SOURCE=local
  // without data is an error; `auto` in development just has no geo then.
  if ((mode === "local" || mode === "local-first") && local() === null && requireLocal && source === "local") {
    throw new ConfigError(
      `GEO_SOURCE=${source} needs the local geo database, but this build bundled none (build with RISKGATE_GEO_DATA=full)`,
    );
  }
  // `auto` in development without the database (a build with RISKGATE_GEO_DATA=none, or
  // one a deploy build left in build/): every request falls back to request.cf, which
  // wrangler dev and the test pool leave fixed or absent, so geo goes quiet and outcomes
  // teach history no country or ASN. Not an error (production has request.cf); said once.
  if (mode === "local-first" && requireLocal && local() === null) {
    console.warn(JSON.stringify({ type: "riskgate.geo_local_missing", message: "development without the local geo database: geo comes from request.cf only (npm run build bundles it)" }));
  }
  return function resolveGeo(cf, ip) {
    switch (mode) {
      case "off":
        return null;
      case "cf":
        return geoFromCf(cf);
      case "local":
        return fromLocal(ip);
      case "cf-first":
        return geoFromCf(cf) ?? fromLocal(ip);
      case "local-first":
        return fromLocal(ip) ?? geoFromCf(cf);
    }
  };
}
