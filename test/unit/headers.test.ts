import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HeaderContext } from "../../src/context/index.ts";
import { parseUa } from "../../src/scoring/signals/device.ts";
import { countLanguages, hasInvalidChars, headerFacts } from "../../src/scoring/signals/headers.ts";

const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

describe("Accept-Language", () => {
  it.each([
    ["en-GB,en;q=0.9", 2],
    ["de", 1],
    ["*", 1],
    ["zh-Hant-TW, zh;q=0.8, en;q=0.5", 3],
    ["en-US;q=1.0", 1],
    ["", -1],
    ["en;q=2", -1],
    ["en,,de", -1],
    ["<script>", -1],
    ["englishlanguage", -1], // a subtag is at most 8 letters
    [Array.from({ length: 33 }, () => "en").join(","), -1],
  ])("%j → %i", (value, expected) => {
    expect(countLanguages(value)).toBe(expected);
  });

  it("never throws on hostile input", () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      expect(countLanguages(s)).toBeGreaterThanOrEqual(-1);
      hasInvalidChars(s);
    }));
  });
});

function ctx(patch: Partial<HeaderContext> = {}): HeaderContext {
  return { userAgentChars: CHROME.length, acceptLanguage: "en", accept: true, secFetchMode: true, ...patch };
}

describe("header facts", () => {
  it.each([
    ["a complete browser request", CHROME, ctx(), { anomalies: [], missing_browser_headers: 0 }],
    ["a browser UA with no Accept-Language, Accept or Sec-Fetch", CHROME, ctx({ acceptLanguage: null, accept: false, secFetchMode: false }), { missing_browser_headers: 3, accept_language_missing: true, sec_fetch_missing: true }],
    ["curl: no browser expectations", "curl/8.5.0", ctx({ acceptLanguage: null, secFetchMode: false }), { missing_browser_headers: 0, sec_fetch_missing: false, accept_language_missing: true }],
    ["a malformed Accept-Language", CHROME, ctx({ acceptLanguage: "en;q=7" }), { accept_language_invalid: true, anomalies: ["accept_language_invalid"] }],
    ["a truncated UA", CHROME, ctx({ userAgentChars: 5000 }), { ua_truncated: true }],
    ["control characters in the UA", "Mozilla/5.0\u0000", ctx(), { ua_invalid_chars: true }],
  ])("%s", (_name, ua, h, expected) => {
    expect(headerFacts(h, parseUa(ua), 512, ua)).toMatchObject(expected);
  });
});
