/**
 * User-Agent client hints (`Sec-CH-UA`, `Sec-CH-UA-Mobile`, `Sec-CH-UA-Platform`), the
 * low-entropy hints Chromium browsers send on every request to a secure origin. They
 * are Structured Fields (RFC 8941); this parser accepts only the subset the hints use
 * (a list of strings with parameters, a boolean, a string) and treats anything else,
 * including oversized input, as malformed. It never throws and never backtracks.
 */

/** One brand of `Sec-CH-UA`, e.g. `{ brand: "Google Chrome", version: "130" }`. */
export interface Brand {
  readonly brand: string;
  readonly version: string;
}

/** The hints as sent; `malformed` is true when any present hint failed to parse. */
export interface ClientHints {
  readonly present: boolean;
  readonly malformed: boolean;
  readonly brands: readonly Brand[];
  readonly mobile: boolean | null;
  readonly platform: string | null;
}

/** Limits: real hints are a few dozen characters and three or four brands. */
export const MAX_HINT_CHARS = 512;
export const MAX_BRANDS = 16;
const MAX_STRING_CHARS = 64;

/** Parse an sf-string starting at `pos` (which must be `"`). */
function parseString(s: string, pos: number): { value: string; end: number } | null {
  if (s[pos] !== '"') return null;
  let value = "";
  for (let i = pos + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return { value, end: i + 1 };
    if (c === 0x5c) {
      const next = s[i + 1];
      if (next !== '"' && next !== "\\") return null;
      value += next;
      i++;
    } else if (c < 0x20 || c > 0x7e) {
      return null;
    } else {
      value += s[i];
    }
    if (value.length > MAX_STRING_CHARS) return null;
  }
  return null;
}

const TOKEN = /[A-Za-z0-9!#$%&'*+\-.^_`|~:/]/;
const KEY = /[a-z0-9_\-.*]/;

/** Parse a `;key=value` parameter list; returns the `v` parameter. */
function parseParams(s: string, start: number): { v: string; end: number } | null {
  let pos = start;
  let v = "";
  while (s[pos] === ";") {
    pos++;
    while (s[pos] === " ") pos++;
    const keyStart = pos;
    while (pos < s.length && KEY.test(s[pos] ?? "")) pos++;
    const key = s.slice(keyStart, pos);
    if (key.length === 0) return null;
    if (s[pos] !== "=") continue; // a bare key is boolean true; nothing we use
    pos++;
    let value: string;
    if (s[pos] === '"') {
      const str = parseString(s, pos);
      if (str === null) return null;
      value = str.value;
      pos = str.end;
    } else {
      const tokStart = pos;
      while (pos < s.length && TOKEN.test(s[pos] ?? "")) pos++;
      value = s.slice(tokStart, pos);
      if (value.length === 0 || value.length > MAX_STRING_CHARS) return null;
    }
    if (key === "v") v = value;
  }
  return { v, end: pos };
}

/** Parse `Sec-CH-UA`; `null` when malformed. */
export function parseBrandList(header: string): Brand[] | null {
  if (header.length > MAX_HINT_CHARS) return null;
  const s = header.trim();
  const brands: Brand[] = [];
  let pos = 0;
  while (pos < s.length) {
    const str = parseString(s, pos);
    if (str === null) return null;
    const params = parseParams(s, str.end);
    if (params === null) return null;
    brands.push({ brand: str.value, version: params.v });
    if (brands.length > MAX_BRANDS) return null;
    pos = params.end;
    while (s[pos] === " " || s[pos] === "\t") pos++;
    if (pos >= s.length) break;
    if (s[pos] !== ",") return null;
    pos++;
    while (s[pos] === " " || s[pos] === "\t") pos++;
    if (pos >= s.length) return null; // trailing comma
  }
  return brands;
}

/** Parse `Sec-CH-UA-Mobile` (`?0` / `?1`); `null` when malformed. */
export function parseMobile(header: string): boolean | null {
  const v = header.trim();
  return v === "?1" ? true : v === "?0" ? false : null;
}

/** Parse `Sec-CH-UA-Platform` (an sf-string); `null` when malformed. */
export function parsePlatform(header: string): string | null {
  if (header.length > MAX_HINT_CHARS) return null;
  const v = header.trim();
  const str = parseString(v, 0);
  return str !== null && str.end === v.length ? str.value : null;
}

/** Read the three low-entropy hints from request headers. */
export function readClientHints(headers: Headers): ClientHints {
  const ua = headers.get("sec-ch-ua");
  const mobile = headers.get("sec-ch-ua-mobile");
  const platform = headers.get("sec-ch-ua-platform");
  const present = ua !== null || mobile !== null || platform !== null;
  const brands = ua === null ? [] : parseBrandList(ua);
  const isMobile = mobile === null ? null : parseMobile(mobile);
  const plat = platform === null ? null : parsePlatform(platform);
  const malformed = brands === null || (mobile !== null && isMobile === null) || (platform !== null && plat === null);
  return { present, malformed, brands: brands ?? [], mobile: isMobile, platform: plat };
}

/** GREASE brands ("Not?A_Brand", "Not A(Brand", ...) carry no information by design. */
export function isGrease(brand: string): boolean {
  return /not.?a.?brand/i.test(brand);
}
