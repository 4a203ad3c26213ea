/**
 * Device signal: what the user agent says it is, and whether it looks automated.
 * Pure over the (already length-capped) UA string and the account's history.
 */
import UAParser from "ua-parser-js";

/** Facts exposed to rules under `device.*`. */
export interface DeviceFacts {
  readonly ua_length: number;
  readonly browser: string;
  readonly browser_major: number;
  readonly os: string;
  readonly type: string;
  readonly automation: boolean;
  readonly headless: boolean;
  readonly known: boolean;
}

// HTTP libraries and tools that real reset flows never use directly.
const AUTOMATION =
  /\b(curl|wget|python-requests|python-urllib|aiohttp|httpx|go-http-client|java\/|okhttp|axios|node-fetch|undici|libwww-perl|httpclient|postmanruntime|insomnia|scrapy|phantomjs|selenium|webdriver|puppeteer|playwright)\b/i;
const HEADLESS = /headless/i;

interface Parsed {
  browser: string;
  browserMajor: number;
  os: string;
  type: string;
}

// Parsing is the expensive part; real traffic repeats a few thousand UAs, so a bounded
// LRU (Map keeps insertion order) turns most parses into a lookup.
const CACHE_LIMIT = 2000;
const cache = new Map<string, Parsed>();

function parse(ua: string): Parsed {
  const hit = cache.get(ua);
  if (hit !== undefined) {
    cache.delete(ua);
    cache.set(ua, hit);
    return hit;
  }
  const r = new UAParser(ua).getResult();
  const parsed: Parsed = {
    browser: r.browser.name ?? "",
    browserMajor: Number.parseInt(r.browser.major ?? "0", 10) || 0,
    os: r.os.name ?? "",
    // ua-parser-js leaves `type` empty for desktop browsers.
    type: r.device.type ?? (r.browser.name ? "desktop" : ""),
  };
  cache.set(ua, parsed);
  if (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return parsed;
}

/** Device facts for a UA; `knownDevices` are the hashed devices of verified resets. */
export function deviceFacts(ua: string, deviceKey: string, knownDevices: readonly string[]): DeviceFacts {
  const p = parse(ua);
  return {
    ua_length: ua.length,
    browser: p.browser,
    browser_major: p.browserMajor,
    os: p.os,
    type: p.type,
    automation: ua.length === 0 || AUTOMATION.test(ua),
    headless: HEADLESS.test(ua),
    known: knownDevices.includes(deviceKey),
  };
}
