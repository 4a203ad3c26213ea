/**
 * Which scored route a request path is. Origins are lenient about paths: Express, for
 * one, matches case-insensitively and ignores a trailing slash by default, and most
 * servers decode percent-escapes and collapse repeated slashes. A path the origin treats
 * as its reset endpoint but riskgate does not recognise would pass through unscored, so
 * matching is at least as lenient: percent-decoded (Hono's `c.req.path`), case-folded,
 * repeated and trailing slashes ignored. Scoring a request the origin would not treat as
 * a reset costs it a 4xx at worst; missing one is a bypass.
 */
import type { RouteSpec } from "../scoring/rules/schema.ts";

/** The comparable form of a path. */
export function routeKey(path: string): string {
  const collapsed = path.toLowerCase().replace(/\/{2,}/g, "/");
  return collapsed.length > 1 && collapsed.endsWith("/") ? collapsed.slice(0, -1) : collapsed;
}

/** The route `path` (already percent-decoded) is, or undefined. */
export function matchRoute(routes: readonly RouteSpec[], path: string): RouteSpec | undefined {
  const key = routeKey(path);
  return routes.find((r) => routeKey(r.path) === key);
}
