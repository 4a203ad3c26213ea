// The Mann-Whitney U test the timing suite relies on: known values, and it does reject a
// real shift (so "does not reject" in the timing suite means something).
import { describe, expect, it } from "vitest";
import { mannWhitneyU, normalCdf } from "../support/stats.ts";

describe("mannWhitneyU", () => {
  it("normalCdf matches the table", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 3);
    expect(normalCdf(-3.2905)).toBeCloseTo(0.0005, 4);
  });

  it("matches a worked example (U = 1 for a small sample pair)", () => {
    // a = {1, 2, 4}, b = {3, 5, 6}: ranks of a are 1, 2, 4 → R = 7, U = 7 - 6 = 1.
    expect(mannWhitneyU([1, 2, 4], [3, 5, 6]).u).toBe(1);
  });

  it("rejects a 5 ms shift in noisy samples of 200 and accepts two draws of one distribution", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const sample = (shift: number) => Array.from({ length: 200 }, () => 20 + shift - 8 * Math.log(rand()));
    expect(mannWhitneyU(sample(0), sample(5)).p).toBeLessThan(0.001);
    expect(mannWhitneyU(sample(0), sample(0)).p).toBeGreaterThan(0.001);
  });
});
