/**
 * Device signal: what the user agent says it is, whether it looks automated, whether
 * its client hints agree with it, and whether it is a device this account confirmed
 * before. Pure over the context (UA already length-capped) and the account's history.
 */
import UAParser from "ua-parser-js";
import type { ClientHints } from "../../context/client-hints.ts";
import { isGrease } from "../../context/client-hints.ts";
import type { DeviceContext } from "../../context/index.ts";

/** Facts exposed to rules under `device.*`. */
export interface DeviceFacts {
  readonly ua_length: number;
  readonly browser: string;
  readonly browser_major: number;
  readonly engine: string;
  readonly os: string;
  readonly type: string;
  readonly automation: boolean;
  readonly headless: boolean;
  readonly known: boolean;
  readonly returning: boolean;
  readonly cookie_invalid: boolean;
  readonly ch_present: boolean;
  readonly ch_mismatch: boolean;
  readonly ch_problems: readonly string[];
  readonly ch_missing: boolean;
  readonly ch_brand: string;
  readonly ch_platform: string;
  readonly ch_mobile: boolean;
  /** How many devices `keys.device` may stand for (src/context/device-key.ts). */
  readonly key_strength: string;
}

// HTTP libraries and tools that real reset flows never use directly.
const AUTOMATION =
  /\b(curl|wget|python-requests|python-urllib|aiohttp|httpx|go-http-client|java\/|okhttp|axios|node-fetch|undici|libwww-perl|httpclient|postmanruntime|insomnia|scrapy|phantomjs|selenium|webdriver|puppeteer|playwright|httpie|guzzlehttp|restsharp|reqwest|faraday|mechanize|crawler|spider)\b/i;
const HEADLESS = /headless/i;

/** The parts of a UA the signals use. */
export interface ParsedUa {
  readonly browser: string;
  readonly browserMajor: number;
  readonly engine: string;
  readonly engineMajor: number;
  readonly os: string;
  readonly type: string;
}

const major = (v: string | undefined) => Number.parseInt(v ?? "0", 10) || 0;

// Parsing is the expensive part; real traffic repeats a few thousand UAs, so a bounded
// LRU (Map keeps insertion order) turns most parses into a lookup.
const CACHE_LIMIT = 2000;
const cache = new Map<string, ParsedUa>();

/** Parse a (capped) UA, through the bounded cache. */
export function parseUa(ua: string): ParsedUa {
  const hit = cache.get(ua);
  if (hit !== undefined) {
    cache.delete(ua);
    cache.set(ua, hit);
    return hit;
  }
  const r = new UAParser(ua).getResult();
  const parsed: ParsedUa = {
    browser: r.browser.name ?? "",
    browserMajor: major(r.browser.major),
    engine: r.engine.name ?? "",
    engineMajor: major(r.engine.version),
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

// Sec-CH-UA-Platform value → the OS names ua-parser-js gives the same platform.
const PLATFORM_OS: Readonly<Record<string, RegExp>> = {
  windows: /^windows/i,
  macos: /^mac ?os/i,
  android: /^android|^harmony/i,
  "chrome os": /^chrom(e|ium) ?os/i,
  chromeos: /^chrom(e|ium) ?os/i,
  ios: /^ios/i,
  linux: /linux|ubuntu|debian|fedora|mint|arch|gentoo|red ?hat|centos|suse|slackware|manjaro/i,
};

/** Where the hints contradict the UA (empty when consistent or absent). */
export function hintProblems(ua: ParsedUa, hints: ClientHints): string[] {
  if (!hints.present) return [];
  if (hints.malformed) return ["malformed"];
  const problems: string[] = [];
  // Only Chromium-based browsers send UA client hints; Firefox and Safari never do.
  if (ua.engine !== "Blink") problems.push("non_chromium_ua");
  const chromium = hints.brands.find((b) => b.brand === "Chromium");
  if (chromium !== undefined && ua.engine === "Blink" && ua.engineMajor > 0 && major(chromium.version) !== ua.engineMajor) {
    problems.push("version");
  }
  if (hints.mobile !== null && ua.type !== "") {
    if ((hints.mobile && ua.type === "desktop") || (!hints.mobile && ua.type === "mobile")) problems.push("mobile");
  }
  const pattern = hints.platform === null ? undefined : PLATFORM_OS[hints.platform.toLowerCase()];
  if (pattern !== undefined && ua.os !== "" && !pattern.test(ua.os)) problems.push("platform");
  return problems;
}

/** The most specific brand: not GREASE, not the generic "Chromium" when a product is named. */
function mainBrand(hints: ClientHints): string {
  const real = hints.brands.filter((b) => !isGrease(b.brand));
  return (real.find((b) => b.brand !== "Chromium") ?? real[0])?.brand ?? "";
}

/** Device facts; `knownDevices` are the hashed cookie devices of confirmed resets. */
export function deviceFacts(ua: string, device: DeviceContext, knownDevices: readonly string[]): DeviceFacts {
  const p = parseUa(ua);
  const { hints } = device;
  const problems = hintProblems(p, hints);
  const brand = mainBrand(hints);
  return {
    ua_length: ua.length,
    browser: p.browser,
    browser_major: p.browserMajor,
    engine: p.engine,
    os: p.os,
    type: p.type,
    automation: ua.length === 0 || AUTOMATION.test(ua),
    headless: HEADLESS.test(ua) || HEADLESS.test(brand),
    known: knownDevices.includes(device.cookieKey),
    returning: device.cookie.state === "valid",
    cookie_invalid: device.cookie.state === "invalid",
    ch_present: hints.present,
    ch_mismatch: problems.length > 0,
    ch_problems: problems,
    // Chromium 90+ sends Sec-CH-UA on every request to a secure origin; a UA claiming
    // it without the hints is usually a script that copied a browser's UA string.
    ch_missing: !hints.present && p.engine === "Blink" && p.engineMajor >= 90 && p.browser !== "Chrome WebView",
    ch_brand: brand,
    ch_platform: hints.platform ?? "",
    ch_mobile: hints.mobile === true,
    key_strength: device.keyStrength,
  };
}
