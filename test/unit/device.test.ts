import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ClientHints } from "../../src/context/client-hints.ts";
import { readClientHints } from "../../src/context/client-hints.ts";
import type { DeviceContext } from "../../src/context/index.ts";
import { deviceFacts, hintProblems, parseUa } from "../../src/scoring/signals/device.ts";

const UA = {
  chromeWin: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
  chromeMac: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
  chromeAndroid: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
  chromeOs: "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
  edge: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
  firefox: "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
  safari: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  headless: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36",
  oldChrome: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/85.0.4183.83 Safari/537.36",
};

function hints(h: Record<string, string>): ClientHints {
  return readClientHints(new Headers(h));
}

const chrome130 = '"Chromium";v="130", "Google Chrome";v="130", "Not?A_Brand";v="99"';

describe("client hints against the UA", () => {
  it.each([
    ["Chrome on Windows", UA.chromeWin, { "sec-ch-ua": chrome130, "sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": '"Windows"' }, []],
    ["Chrome on macOS", UA.chromeMac, { "sec-ch-ua": chrome130, "sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": '"macOS"' }, []],
    ["Chrome on Android", UA.chromeAndroid, { "sec-ch-ua": chrome130, "sec-ch-ua-mobile": "?1", "sec-ch-ua-platform": '"Android"' }, []],
    ["Chrome on ChromeOS", UA.chromeOs, { "sec-ch-ua": chrome130, "sec-ch-ua-platform": '"Chrome OS"' }, []],
    ["Edge", UA.edge, { "sec-ch-ua": '"Microsoft Edge";v="130", "Chromium";v="130"', "sec-ch-ua-platform": '"Windows"' }, []],
    ["no hints at all (Firefox)", UA.firefox, {}, []],
    ["hints from a Firefox UA", UA.firefox, { "sec-ch-ua": chrome130 }, ["non_chromium_ua"]],
    ["hints from a Safari UA", UA.safari, { "sec-ch-ua-platform": '"macOS"' }, ["non_chromium_ua"]],
    ["another platform", UA.chromeWin, { "sec-ch-ua-platform": '"Linux"' }, ["platform"]],
    ["mobile hint, desktop UA", UA.chromeWin, { "sec-ch-ua-mobile": "?1" }, ["mobile"]],
    ["desktop hint, mobile UA", UA.chromeAndroid, { "sec-ch-ua-mobile": "?0" }, ["mobile"]],
    ["another Chromium version", UA.chromeWin, { "sec-ch-ua": '"Chromium";v="124"' }, ["version"]],
    ["an unknown platform value is not a mismatch", UA.chromeWin, { "sec-ch-ua-platform": '"Unknown"' }, []],
    ["malformed hints", UA.chromeWin, { "sec-ch-ua": "Chromium" }, ["malformed"]],
  ])("%s → %j", (_name, ua, h, expected) => {
    expect(hintProblems(parseUa(ua), hints(h))).toEqual(expected);
  });
});

function device(h: Record<string, string> = {}, state: "absent" | "valid" | "invalid" = "absent"): DeviceContext {
  return { cookie: { state, id: "x".repeat(22), setCookie: "" }, cookieKey: "k".repeat(22), hints: hints(h), keyStrength: state === "valid" ? "cookie" : "network-fingerprint" };
}

describe("device facts", () => {
  it.each([
    ["curl", "curl/8.5.0", { automation: true, headless: false }],
    ["python-requests", "python-requests/2.31.0", { automation: true }],
    ["Go", "Go-http-client/2.0", { automation: true }],
    ["okhttp", "okhttp/4.12.0", { automation: true }],
    ["empty UA", "", { automation: true, ua_length: 0 }],
    ["headless Chrome", UA.headless, { headless: true, automation: false }],
    ["Chrome", UA.chromeWin, { automation: false, headless: false, browser: "Chrome", browser_major: 130, engine: "Blink", os: "Windows", type: "desktop" }],
    ["Firefox", UA.firefox, { automation: false, browser: "Firefox", engine: "Gecko", os: "Linux" }],
    ["a UA merely mentioning 'curly'", "Mozilla/5.0 curly-hair-browser", { automation: false }],
  ])("%s", (_name, ua, expected) => {
    expect(deviceFacts(ua, device(), [])).toMatchObject(expected);
  });

  it.each([
    ["Chromium 130 without hints", UA.chromeWin, {}, true],
    ["Chromium 130 with hints", UA.chromeWin, { "sec-ch-ua": chrome130 }, false],
    ["Chromium 85 (before hints) without hints", UA.oldChrome, {}, false],
    ["Firefox without hints", UA.firefox, {}, false],
  ])("ch_missing: %s → %s", (_name, ua, h, expected) => {
    expect(deviceFacts(ua, device(h), []).ch_missing).toBe(expected);
  });

  it("a headless brand in the hints is headless even under a normal UA", () => {
    expect(deviceFacts(UA.chromeWin, device({ "sec-ch-ua": '"HeadlessChrome";v="130"' }), []).headless).toBe(true);
  });

  it.each([
    ["the cookie device is in history", "valid", ["k".repeat(22)], { known: true, returning: true, cookie_invalid: false }],
    ["a valid cookie the account never confirmed", "valid", ["other"], { known: false, returning: true }],
    ["no cookie", "absent", ["other"], { known: false, returning: false, cookie_invalid: false }],
    ["a forged cookie", "invalid", [], { known: false, returning: false, cookie_invalid: true }],
  ] as const)("%s", (_name, state, known, expected) => {
    expect(deviceFacts(UA.chromeWin, device({}, state), known)).toMatchObject(expected);
  });

  it("caches parses in a bounded LRU without changing answers", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 80 }), { maxLength: 50 }), (uas) => {
        for (const ua of uas) expect(parseUa(ua)).toEqual(parseUa(ua));
      }),
    );
  });
});
