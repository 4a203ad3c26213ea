/**
 * Which scored route a request path is. An origin routes many spellings of a path to the
 * same handler: Express matches case-insensitively and ignores a trailing slash, Spring
 * drops `;jsessionid=...` parameters, Rails and Django accept a `.json` format suffix,
 * several servers decode percent-escapes twice or read `%2F` as a slash. A spelling the
 * origin treats as its reset endpoint but riskgate does not recognise would pass through
 * unscored, so each path is read three ways (docs/rules.md, "routes"):
 *
 * - plain: unreserved percent-escapes decoded (RFC 3986 equivalence), case-folded,
 *   repeated and trailing slashes ignored. A match is the route.
 * - framework: plain, without `;parameters` in any segment and without a `.format`
 *   suffix on the last one. A match is the route, as Spring, Rails and Django would have it.
 * - lenient: decoded up to three times, Unicode-folded (NFKC: `ſ` is `s`), cut at a
 *   decoded `?` or `#`, backslashes as slashes, controls and spaces removed, dot segments
 *   resolved, then as framework. A match here only is ambiguous: some origin in common use
 *   would route it to the reset handler and others would not. It is refused with a 400,
 *   never passed through and never guessed at.
 */
import type { RouteSpec } from "../scoring/rules/schema.ts";

/** The route a path is, a refusal for a path that only some origins would route to one, or neither. */
export type RouteMatch = { readonly route: RouteSpec } | { readonly ambiguous: RouteSpec } | undefined;

/** The comparable form of a path. */
export function routeKey(path: string): string {
  const collapsed = path.toLowerCase().replace(/\/{2,}/g, "/");
  return collapsed.length > 1 && collapsed.endsWith("/") ? collapsed.slice(0, -1) : collapsed;
}

/** `%41`-style escapes of unreserved characters decoded; every other escape kept as written. */
function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9a-f]{2})/gi, (written, hex: string) => {
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(ch) ? ch : written.toUpperCase();
  });
}

/** Without `;parameters` in any segment and without a `.format` suffix on the last. */
function frameworkForm(path: string): string {
  const segments = path.split("/").map((s) => s.split(";")[0] ?? "");
  const last = segments.length - 1;
  segments[last] = (segments[last] ?? "").replace(/\.[a-z0-9]{1,10}$/i, "").replace(/\.+$/, "");
  return segments.join("/");
}

/** Decode escapes repeatedly (a server that decodes twice sees `%252F` as `/`). */
function decodeRepeatedly(path: string): string {
  let out = path;
  for (let i = 0; i < 3 && out.includes("%"); i++) {
    try {
      out = decodeURIComponent(out);
    } catch {
      out = out.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    }
  }
  return out;
}

/** Controls, spaces and zero-width characters: some servers trim or drop them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
const INVISIBLE = /[\u0000-\u0020\u007f-\u009f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff]/g;

/** Every reading of `raw` that some origin in common use applies. */
function lenientForm(raw: string): string {
  let path = decodeRepeatedly(raw).normalize("NFKC").toUpperCase().toLowerCase();
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  path = path.replace(/\\/g, "/").replace(INVISIBLE, "");
  const out: string[] = [];
  for (const segment of path.split("/").map((s) => s.split(";")[0] ?? "")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return frameworkForm(`/${out.join("/")}`);
}

/** Characters whose presence makes a path worth the framework and lenient readings. */
const UNUSUAL = /[%;.\\]/;

/** The route `raw` (the request's path as sent, percent-escapes intact) is, if any. */
export function matchRoute(routes: readonly RouteSpec[], raw: string): RouteMatch {
  const plain = routeKey(decodeUnreserved(raw));
  const exact = routes.find((r) => routeKey(r.path) === plain);
  if (exact !== undefined) return { route: exact };
  if (!UNUSUAL.test(raw)) return undefined;
  const framework = routeKey(frameworkForm(decodeUnreserved(raw)));
  const viaFramework = routes.find((r) => routeKey(r.path) === framework);
  if (viaFramework !== undefined) return { route: viaFramework };
  const lenient = routeKey(lenientForm(raw));
  const ambiguous = routes.find((r) => routeKey(r.path) === lenient);
  return ambiguous === undefined ? undefined : { ambiguous };
}

/** The path of a request URL as sent (no decoding), without the query. */
export function rawPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}
