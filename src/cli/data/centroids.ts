/**
 * A representative point per country, for local geo data that has countries but no
 * coordinates: the centroid of the country's most detailed polygon in the border data
 * of @rapideditor/country-coder (ISC). Its borders over water are coarse boxes with few
 * vertices, while mainlands have detailed land borders, so the most detailed polygon
 * keeps France in Europe (not French Polynesia) and the United States in the contiguous
 * states. Accuracy is a few hundred km at worst (Japan's point is off its south coast):
 * enough to tell countries apart for impossible travel; a City database does better.
 */
import { aggregateFeature } from "@rapideditor/country-coder";

type Ring = readonly (readonly number[])[];

/** Signed planar area and centroid of a ring (lon/lat treated as planar: fine for a label point). */
function ringCentroid(ring: Ring): { area: number; lon: number; lat: number } {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x1 = 0, y1 = 0] = ring[j] ?? [];
    const [x2 = 0, y2 = 0] = ring[i] ?? [];
    const f = x1 * y2 - x2 * y1;
    a += f;
    cx += (x1 + x2) * f;
    cy += (y1 + y2) * f;
  }
  if (a === 0) return { area: 0, lon: ring[0]?.[0] ?? 0, lat: ring[0]?.[1] ?? 0 };
  return { area: Math.abs(a / 2), lon: cx / (3 * a), lat: cy / (3 * a) };
}

const cache = new Map<string, readonly [number, number] | null>();

/** [lat, lon] of a country (ISO 3166-1 alpha-2), rounded to 0.01°, or null if unknown. */
export function countryCentroid(code: string): readonly [number, number] | null {
  const hit = cache.get(code);
  if (hit !== undefined) return hit;
  let best: Ring | null = null;
  const geometry = /^[A-Z]{2}$/.test(code) ? aggregateFeature(code)?.geometry : undefined;
  const polygons: Ring[] =
    geometry?.type === "Polygon"
      ? [geometry.coordinates[0] ?? []]
      : geometry?.type === "MultiPolygon"
        ? geometry.coordinates.map((p: Ring[]) => p[0] ?? [])
        : [];
  for (const ring of polygons) if (best === null || ring.length > best.length) best = ring;
  const c = best === null ? null : ringCentroid(best);
  const point = c === null ? null : ([Math.round(c.lat * 100) / 100, Math.round(c.lon * 100) / 100] as const);
  cache.set(code, point);
  return point;
}
