/**
 * Geo signal: where the request comes from and whether that is new for the account,
 * including impossible travel since the last verified location.
 */
import type { GeoInput } from "../../context/index.ts";
import type { AccountHistory } from "../../store/port.ts";

/** Facts exposed to rules under `geo.*`. */
export interface GeoFacts {
  readonly known: boolean;
  /** `cf` (request.cf), `local` (the bundled database) or "" when unknown. */
  readonly source: string;
  readonly country: string;
  readonly region: string;
  readonly asn: number;
  readonly as_org: string;
  readonly new_country: boolean;
  readonly new_asn: boolean;
  /** Kilometres from the last verified location; 0 when either end is unknown. */
  readonly distance_km: number;
  /** Implied speed from the last verified location; 0 when unknown. */
  readonly speed_kmh: number;
  /** True when latitude and longitude are known (a City database or request.cf). */
  readonly has_location: boolean;
}

const EARTH_RADIUS_KM = 6371;

/** Great-circle distance (haversine). */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Geo facts; with no history nothing is "new" (a first reset is not suspicious by place). */
export function geoFacts(geo: GeoInput | null, history: AccountHistory | null, now: number): GeoFacts {
  if (geo === null) {
    return {
      known: false,
      source: "",
      country: "",
      region: "",
      asn: 0,
      as_org: "",
      new_country: false,
      new_asn: false,
      distance_km: 0,
      speed_kmh: 0,
      has_location: false,
    };
  }
  let distance = 0;
  let speed = 0;
  const last = history?.lastVerified ?? null;
  if (last !== null && geo.lat !== null && geo.lon !== null) {
    distance = distanceKm(last.lat, last.lon, geo.lat, geo.lon);
    // Floor the interval at one minute so two requests in the same second are not "infinite speed".
    const hours = Math.max(now - last.at, 60_000) / 3_600_000;
    speed = distance / hours;
  }
  const hasHistory = history !== null && history.countries.length > 0;
  return {
    known: true,
    source: geo.source,
    country: geo.country,
    region: geo.region,
    asn: geo.asn,
    as_org: geo.asOrg,
    new_country: hasHistory && geo.country !== "" && !history.countries.includes(geo.country),
    new_asn: hasHistory && geo.asn !== 0 && !history.asns.includes(geo.asn),
    distance_km: distance,
    speed_kmh: speed,
    has_location: geo.lat !== null && geo.lon !== null,
  };
}
