import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isGrease, parseBrandList, parseMobile, parsePlatform, readClientHints } from "../../src/context/client-hints.ts";

describe("client hints", () => {
  it.each([
    ['"Chromium";v="130", "Google Chrome";v="130", "Not?A_Brand";v="99"', [["Chromium", "130"], ["Google Chrome", "130"], ["Not?A_Brand", "99"]]],
    ['"Microsoft Edge";v="129","Not=A?Brand";v="8","Chromium";v="129"', [["Microsoft Edge", "129"], ["Not=A?Brand", "8"], ["Chromium", "129"]]],
    ['" Not A;Brand";v="99", "Chromium";v="98"', [[" Not A;Brand", "99"], ["Chromium", "98"]]],
    ['"Brand";v=130', [["Brand", "130"]]],
    ['"Es\\"caped";v="1"', [['Es"caped', "1"]]],
    ['"NoVersion"', [["NoVersion", ""]]],
    ["", []],
  ])("parses Sec-CH-UA %j", (header, expected) => {
    expect(parseBrandList(header)?.map((b) => [b.brand, b.version])).toEqual(expected);
  });

  it.each([
    ['"Chromium;v=130'], // unterminated string
    ['Chromium;v="130"'], // not a string
    ['"Chromium";v="130",'], // trailing comma
    ['"A" "B"'], // missing comma
    ['"Bad\\x"'], // bad escape
    ['"Ünïcode"'], // non-ASCII
    [`"${"x".repeat(65)}"`], // oversized brand
    [Array.from({ length: 17 }, (_, i) => `"b${i}"`).join(", ")], // too many brands
    [`"a";v="1"${" ".repeat(600)}`], // oversized header
  ])("rejects malformed Sec-CH-UA %j", (header) => {
    expect(parseBrandList(header)).toBeNull();
  });

  it.each([
    ["?0", false],
    ["?1", true],
    [" ?1 ", true],
    ["1", null],
    ["?2", null],
    ["true", null],
  ])("parses Sec-CH-UA-Mobile %j", (v, expected) => {
    expect(parseMobile(v)).toBe(expected);
  });

  it.each([
    ['"Windows"', "Windows"],
    ['"macOS"', "macOS"],
    ['""', ""],
    ["Windows", null],
    ['"Windows" x', null],
  ])("parses Sec-CH-UA-Platform %j", (v, expected) => {
    expect(parsePlatform(v)).toBe(expected);
  });

  it.each([["Not?A_Brand", true], ["Not A(Brand", true], ["Not/A)Brand", true], ["Google Chrome", false], ["Chromium", false]])(
    "GREASE brand %j: %s",
    (brand, grease) => {
      expect(isGrease(brand)).toBe(grease);
    },
  );

  it("reads presence and malformation from headers", () => {
    expect(readClientHints(new Headers())).toMatchObject({ present: false, malformed: false });
    expect(readClientHints(new Headers({ "sec-ch-ua-mobile": "maybe" }))).toMatchObject({ present: true, malformed: true });
    expect(readClientHints(new Headers({ "sec-ch-ua-platform": '"Linux"' }))).toMatchObject({ present: true, malformed: false, platform: "Linux" });
  });

  it("never throws and stays bounded on hostile input", () => {
    const structured = fc.stringMatching(/^[" ;=,a-zA-Z0-9\\?_.-]{0,200}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 800 }), structured), (s) => {
        const brands = parseBrandList(s);
        if (brands !== null) {
          expect(brands.length).toBeLessThanOrEqual(16);
          for (const b of brands) expect(b.brand.length).toBeLessThanOrEqual(64);
        }
        parseMobile(s);
        parsePlatform(s);
      }),
    );
  });
});
