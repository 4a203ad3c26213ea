/**
 * Header anomaly signal: malformed or implausible headers, and headers every modern
 * browser sends that are missing from a request whose UA claims to be one.
 */
import type { HeaderContext } from "../../context/index.ts";
import type { ParsedUa } from "./device.ts";

/** Facts exposed to rules under `headers.*`. */
export interface HeaderFacts {
  readonly accept_language_missing: boolean;
  readonly accept_language_invalid: boolean;
  readonly languages: number;
  readonly ua_truncated: boolean;
  readonly ua_invalid_chars: boolean;
  readonly sec_fetch_missing: boolean;
  readonly accept_missing: boolean;
  /** Headers a modern browser always sends that this "browser" did not. */
  readonly missing_browser_headers: number;
  /** Names of every anomaly above that is true. */
  readonly anomalies: readonly string[];
}

const MAX_LANGUAGES = 32;
const LANGUAGE_RANGE = /^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)(\s*;\s*q\s*=\s*(0(\.\d{0,3})?|1(\.0{0,3})?))?$/;

/** Number of language ranges in an Accept-Language value, or -1 when it is malformed. */
export function countLanguages(value: string): number {
  const parts = value.split(",");
  if (parts.length > MAX_LANGUAGES) return -1;
  for (const part of parts) if (!LANGUAGE_RANGE.test(part.trim())) return -1;
  return parts.length;
}

/** True when the UA has characters no browser sends: controls or non-ASCII. */
export function hasInvalidChars(ua: string): boolean {
  for (let i = 0; i < ua.length; i++) {
    const c = ua.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return true;
  }
  return false;
}

/** Browsers that send Fetch Metadata (Sec-Fetch-*) on every request. */
function sendsFetchMetadata(ua: ParsedUa): boolean {
  if (ua.engine === "Blink") return ua.engineMajor >= 80;
  if (ua.browser === "Firefox") return ua.browserMajor >= 90;
  if (ua.browser === "Safari" || ua.browser === "Mobile Safari") return ua.browserMajor >= 17;
  return false;
}

/** Header facts for a request whose (capped) UA parsed to `ua`. */
export function headerFacts(h: HeaderContext, ua: ParsedUa, uaLimit: number, userAgent: string): HeaderFacts {
  const languages = h.acceptLanguage === null ? 0 : countLanguages(h.acceptLanguage);
  const browser = sendsFetchMetadata(ua);
  const flags = {
    accept_language_missing: h.acceptLanguage === null,
    accept_language_invalid: languages < 0,
    ua_truncated: h.userAgentChars > uaLimit,
    ua_invalid_chars: hasInvalidChars(userAgent),
    sec_fetch_missing: browser && !h.secFetchMode,
    accept_missing: !h.accept,
  };
  const missing = browser
    ? Number(flags.accept_language_missing) + Number(flags.sec_fetch_missing) + Number(flags.accept_missing)
    : 0;
  return {
    ...flags,
    languages: Math.max(languages, 0),
    missing_browser_headers: missing,
    anomalies: Object.entries(flags)
      .filter(([, v]) => v)
      .map(([k]) => k),
  };
}
