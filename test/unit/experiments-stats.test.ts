// The statistics behind reports and guardrails, against reference values (SciPy 1.x and R:
// pnorm, qnorm, pt, qt; prop.test without continuity correction; p.adjust "holm") and
// hand-worked examples.
import { describe, expect, it } from "vitest";
import {
  bernoulliLlr,
  holm,
  incompleteBeta,
  normalCdf,
  normalQuantile,
  ratioOfSums,
  studentTCdf,
  studentTQuantile,
  twoProportionTest,
  welchTest,
  wilson,
} from "../../src/scoring/experiments/stats.ts";

describe("distributions", () => {
  it.each([
    [0, 0.5],
    [1.959963985, 0.975],
    [-1, 0.158655254],
    [3, 0.998650102],
    [-4, 3.16712418e-5],
  ])("pnorm(%f) = %f", (z, p) => {
    expect(normalCdf(z)).toBeCloseTo(p, 7);
  });

  it.each([
    [0.975, 1.959963985],
    [0.5, 0],
    [0.001, -3.090232306],
    [0.9999, 3.719016485],
  ])("qnorm(%f) = %f", (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 6);
  });

  it.each([
    [2, 10, 0.963305983],
    [-1.5, 3.5, 0.10890909],
    [0.5, 1, 0.647583617],
    [2.5, 100, 0.992977105],
  ])("pt(%f, %f) = %f", (t, df, p) => {
    expect(studentTCdf(t, df)).toBeCloseTo(p, 6);
  });

  it.each([
    [0.975, 15, 2.131449546],
    [0.975, 1, 12.70620474],
    [0.95, 4.5, 2.065575889],
    [0.975, Number.POSITIVE_INFINITY, 1.959963985],
  ])("qt(%f, %f) = %f", (p, df, t) => {
    expect(studentTQuantile(p, df)).toBeCloseTo(t, 4);
  });

  it("the incomplete beta meets its edges and symmetry", () => {
    expect(incompleteBeta(0, 2, 3)).toBe(0);
    expect(incompleteBeta(1, 2, 3)).toBe(1);
    expect(incompleteBeta(0.3, 2, 3) + incompleteBeta(0.7, 3, 2)).toBeCloseTo(1, 12);
    expect(incompleteBeta(0.5, 1, 1)).toBeCloseTo(0.5, 12);
  });

  it("rejects probabilities outside (0, 1)", () => {
    expect(() => normalQuantile(0)).toThrow(RangeError);
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
  });
});

describe("rates", () => {
  it.each([
    [5, 10, 0.2365931, 0.7634069],
    [0, 20, 0, 0.1611252],
    [81, 263, 0.2553, 0.3662],
    [100, 100, 0.963006, 1],
  ])("Wilson interval of %i/%i", (k, n, lo, hi) => {
    const ci = wilson(k, n);
    expect(ci?.lo).toBeCloseTo(lo, 3);
    expect(ci?.hi).toBeCloseTo(hi, 3);
  });

  it("has no interval without trials", () => {
    expect(wilson(0, 0)).toBeNull();
  });

  it.each([
    [60, 100, 45, 100, 0.03367],
    [50, 100, 50, 100, 1],
    [10, 1000, 30, 1000, 0.001401],
  ])("two-proportion test %i/%i vs %i/%i: p = %f", (k1, n1, k2, n2, p) => {
    expect(twoProportionTest(k1, n1, k2, n2).p).toBeCloseTo(p, 4);
  });

  it("a test with no trials, or no variance, says nothing (p = 1)", () => {
    expect(twoProportionTest(0, 0, 3, 10).p).toBe(1);
    expect(twoProportionTest(0, 10, 0, 10).p).toBe(1);
  });
});

describe("cost per completion (ratio of sums over random groups)", () => {
  it("matches the hand-worked delta-method example", () => {
    // R = 41/9; residuals 10-2R, 12-3R, 8-2R, 11-2R; Var = 4/3 · Σe² / 81.
    const groups = [{ num: 10, den: 2 }, { num: 12, den: 3 }, { num: 8, den: 2 }, { num: 11, den: 2 }];
    const est = ratioOfSums(groups);
    const R = 41 / 9;
    const ss = [10 - 2 * R, 12 - 3 * R, 8 - 2 * R, 11 - 2 * R].reduce((s, e) => s + e * e, 0);
    expect(est.ratio).toBeCloseTo(R, 12);
    expect(est.se).toBeCloseTo(Math.sqrt((4 / 3) * ss) / 9, 12);
    expect(est.df).toBe(3);
    expect(est.interval?.lo).toBeCloseTo(R - 3.182446305 * (est.se ?? 0), 6);
  });

  it("groups that all have the same ratio give zero uncertainty; no completions give no ratio", () => {
    expect(ratioOfSums([{ num: 2, den: 1 }, { num: 4, den: 2 }]).se).toBe(0);
    expect(ratioOfSums([{ num: 5, den: 0 }, { num: 1, den: 0 }]).ratio).toBeNull();
    expect(ratioOfSums([{ num: 5, den: 2 }]).interval).toBeNull();
  });

  it("Welch's test: equal estimates are not different, far-apart ones are", () => {
    expect(welchTest(1, 0.1, 15, 1, 0.1, 15).p).toBeCloseTo(1, 10);
    const far = welchTest(2, 0.1, 15, 1, 0.1, 15);
    expect(far.df).toBeCloseTo(30, 10);
    expect(far.p).toBeLessThan(1e-6);
    expect(welchTest(1.2, 0.1, 15, 1, 0.1, 15).p).toBeGreaterThan(0.1);
  });
});

describe("multiple comparisons and guardrail statistic", () => {
  it("Holm's adjustment matches p.adjust", () => {
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    expect(holm([0.5])).toEqual([0.5]);
    expect(holm([0.2, 0.9])).toEqual([0.4, 0.9]);
  });

  it("the SPRT log-likelihood ratio grows with events and falls with clean exposures", () => {
    expect(bernoulliLlr(0, 0, 0.02, 0.04)).toBe(0);
    expect(bernoulliLlr(1, 1, 0.02, 0.04)).toBeCloseTo(Math.log(2), 12);
    expect(bernoulliLlr(0, 1, 0.02, 0.04)).toBeCloseTo(Math.log(0.96 / 0.98), 12);
    expect(bernoulliLlr(10, 200, 0.02, 0.04)).toBeGreaterThan(bernoulliLlr(4, 200, 0.02, 0.04));
  });
});
