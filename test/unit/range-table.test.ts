import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeTable, encodeTable, type KeyWords, lookupRange } from "../../src/shared/range-table.ts";
import { readPack, writePack } from "../../src/shared/pack.ts";

/** Naive reference: value of the last start <= key. */
function naive(starts: bigint[], values: number[], key: bigint): number {
  let v = 0;
  starts.forEach((s, i) => {
    if (s <= key) v = values[i] ?? 0;
  });
  return v;
}

function keyWords(words: KeyWords, key: bigint): number[] {
  const out: number[] = [];
  for (let w = 0; w < words; w++) out.push(Number((key >> BigInt((words - 1 - w) * 32)) & 0xffffffffn));
  return out;
}

describe("range tables", () => {
  it.each([1, 2, 4] as const)("encode → decode → lookup agrees with a linear scan (%i words)", (words) => {
    const bits = BigInt(words * 32);
    const max = (1n << bits) - 1n;
    const arb = fc.record({
      starts: fc.uniqueArray(fc.bigInt({ min: 0n, max }), { maxLength: 60 }).map((a) => a.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))),
      probes: fc.array(fc.bigInt({ min: 0n, max }), { minLength: 1, maxLength: 20 }),
      seed: fc.nat(),
    });
    fc.assert(
      fc.property(arb, ({ starts, probes, seed }) => {
        const values = starts.map((_, i) => ((seed + i * 7919) % 100000) + 1);
        const table = decodeTable(encodeTable(words, starts, values));
        expect(table.count).toBe(starts.length);
        for (const p of [...probes, ...starts, ...starts.map((s) => (s > 0n ? s - 1n : s))]) {
          expect(lookupRange(table, keyWords(words, p))).toBe(naive(starts, values, p));
        }
      }),
    );
  });

  it.each([
    ["before the first segment", 5n, 0],
    ["at a segment start", 10n, 1],
    ["inside a segment", 15n, 1],
    ["in a gap (value 0)", 25n, 0],
    ["in the last, open-ended segment", 2n ** 32n - 1n, 3],
  ])("looks up a key %s", (_name, key, expected) => {
    const table = decodeTable(encodeTable(1, [10n, 20n, 30n], [1, 0, 3]));
    expect(lookupRange(table, [Number(key)])).toBe(expected);
  });

  it("rejects unsorted starts at build time and truncated bytes at decode time", () => {
    expect(() => encodeTable(1, [5n, 1n], [1, 1])).toThrow(/sorted/);
    const bytes = encodeTable(1, [1n, 2n, 3n], [1, 2, 3]);
    expect(() => decodeTable(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
  });

  it("packs round-trip metadata and aligned sections", () => {
    const pack = readPack<{ n: number }>(writePack({ n: 7 }, { a: Uint8Array.of(1, 2, 3), b: Uint8Array.of(9) }));
    expect(pack.meta.n).toBe(7);
    expect([...pack.section("a")]).toEqual([1, 2, 3]);
    expect([...pack.section("b")]).toEqual([9]);
    expect(pack.section("missing").byteLength).toBe(0);
    expect(() => readPack(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))).toThrow(/not a riskgate data pack/);
  });
});
