// In workerd base64url uses the native Uint8Array.prototype.toBase64; the portable loop
// (Node 20) must produce the same text for every input, or hashed identifiers and
// decision tokens would differ between the Worker and the CLI.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64url, base64urlPortable } from "../../src/shared/base64url.ts";

describe("base64url", () => {
  it("uses the native encoder in workerd", () => {
    expect(typeof (new Uint8Array(0) as Uint8Array & { toBase64?: unknown }).toBase64).toBe("function");
  });

  it("native and portable agree on any bytes and any prefix length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
        const length = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        expect(base64url(bytes, length)).toBe(base64urlPortable(bytes, length));
        expect(base64url(bytes)).toBe(base64urlPortable(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it("matches RFC 4648 test vectors (unpadded, URL alphabet)", () => {
    const enc = new TextEncoder();
    const cases: [string, string][] = [["", ""], ["f", "Zg"], ["fo", "Zm8"], ["foo", "Zm9v"], ["foob", "Zm9vYg"], ["fooba", "Zm9vYmE"], ["foobar", "Zm9vYmFy"]];
    for (const [text, expected] of cases) {
      expect(base64url(enc.encode(text))).toBe(expected);
      expect(base64urlPortable(enc.encode(text))).toBe(expected);
    }
    expect(base64url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
  });
});
