// The Durable Object store's filter of accounts with history: never "no" for a key that
// was added (a false "no" would hide an account's history), and "yes" for few others.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyFilter } from "../../src/store/key-filter.ts";

describe("KeyFilter", () => {
  it("has no false negatives", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 80 }), { maxLength: 300 }), (keys) => {
        const filter = new KeyFilter(1 << 12);
        for (const key of keys) filter.add(key);
        expect(keys.every((key) => filter.mightHave(key))).toBe(true);
      }),
    );
  });

  it("says no for most keys never added (2^16 bits, 4,000 keys: ~0.2 % false positives expected)", () => {
    const filter = new KeyFilter(1 << 16);
    for (let i = 0; i < 4000; i++) filter.add(`h:${i.toString(16).padStart(64, "0")}`);
    let yes = 0;
    for (let i = 0; i < 10_000; i++) if (filter.mightHave(`h:${(i + 1_000_000).toString(16).padStart(64, "a")}`)) yes++;
    expect(yes).toBeLessThan(500);
    expect(new KeyFilter(1 << 16).mightHave("anything")).toBe(false);
  });

  it("refuses a size that is not a power of two", () => {
    expect(() => new KeyFilter(1000)).toThrow(/power of two/);
  });
});
