/**
 * The statistics behind experiment reports and guardrails, written out so that every
 * number on a report can be traced to a formula in docs/experiments.md:
 *   - Wilson score intervals for rates (completion, fraud, abandonment);
 *   - a pooled two-proportion z-test for differences in rates;
 *   - the delta method (linearisation) over random groups for a ratio of sums
 *     (cost per completed reset), with Student-t intervals;
 *   - Welch's t-test for two such ratios, and Holm's step-down correction;
 *   - the log-likelihood ratio of Wald's SPRT for a Bernoulli rate (guardrails).
 * Pure numeric code, no dependencies, so the Worker and the CLI compute the same values.
 */

/** A two-sided interval. */
export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/** Standard normal CDF, through erfc (Numerical Recipes `erfcc`: fractional error < 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
      t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(-x * x + poly);
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError("p must be in (0, 1)");
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const low = 0.02425;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
    return p < low ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~15 significant digits). */
function logGamma(x: number): number {
  const g = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = g[0] as number;
  for (let i = 1; i < g.length; i++) sum += (g[i] as number) / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction for the incomplete beta (modified Lentz; Numerical Recipes betacf). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (const aa of [(m * (b - m) * x) / ((a + m2 - 1) * (a + m2)), (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))]) {
      d = 1 + aa * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + aa / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-14) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast only on one side of the mean; use the symmetry otherwise.
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** Student-t CDF with `df` degrees of freedom (any positive real). */
export function studentTCdf(t: number, df: number): number {
  if (!Number.isFinite(df)) return normalCdf(t);
  const tail = incompleteBeta(df / (df + t * t), df / 2, 0.5) / 2;
  return t >= 0 ? 1 - tail : tail;
}

/** Student-t quantile, by bisection on the CDF (60 halvings: far below display precision). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError("p must be in (0, 1)");
  if (!Number.isFinite(df)) return normalQuantile(p);
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Two-sided p-value of a t (or, with df = Infinity, z) statistic. */
export function twoSidedP(stat: number, df: number): number {
  if (Number.isNaN(stat)) return 1;
  return Math.min(1, 2 * (1 - studentTCdf(Math.abs(stat), df)));
}

/** Wilson score interval for k successes in n trials (null when n is 0). */
export function wilson(k: number, n: number, confidence = 0.95): Interval | null {
  if (n <= 0) return null;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  // At 0 or n successes the bound is exactly 0 or 1; the formula leaves rounding dust.
  return { lo: k <= 0 ? 0 : Math.max(0, centre - half), hi: k >= n ? 1 : Math.min(1, centre + half) };
}

/** A test statistic and its two-sided p-value. */
export interface TestResult {
  readonly stat: number;
  readonly p: number;
}

/** Pooled two-proportion z-test of k1/n1 against k2/n2 (p = 1 when it cannot be computed). */
export function twoProportionTest(k1: number, n1: number, k2: number, n2: number): TestResult {
  if (n1 <= 0 || n2 <= 0) return { stat: 0, p: 1 };
  const pooled = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { stat: 0, p: 1 };
  const z = (k1 / n1 - k2 / n2) / se;
  return { stat: z, p: twoSidedP(z, Number.POSITIVE_INFINITY) };
}

/** One random group's sums for a ratio estimate. */
export interface GroupSums {
  readonly num: number;
  readonly den: number;
}

/** A ratio of sums with its delta-method standard error and t interval. */
export interface RatioEstimate {
  /** Σnum / Σden; null when Σden is 0. */
  readonly ratio: number | null;
  readonly se: number | null;
  /** Degrees of freedom of the variance estimate (groups − 1). */
  readonly df: number;
  readonly interval: Interval | null;
}

/**
 * R = Σnum / Σden over G random groups, with the delta-method (linearisation) variance
 * Var(R) ≈ G/(G−1) · Σ_g (num_g − R·den_g)² / (Σden)², and a Student-t interval with
 * G − 1 degrees of freedom. Each group is a random subsample of the units (decisions),
 * so its sums are independent replicates; see docs/experiments.md.
 */
export function ratioOfSums(groups: readonly GroupSums[], confidence = 0.95): RatioEstimate {
  const g = groups.length;
  const num = groups.reduce((s, x) => s + x.num, 0);
  const den = groups.reduce((s, x) => s + x.den, 0);
  const df = Math.max(g - 1, 0);
  if (den <= 0) return { ratio: null, se: null, df, interval: null };
  const ratio = num / den;
  if (g < 2) return { ratio, se: null, df, interval: null };
  const ss = groups.reduce((s, x) => s + (x.num - ratio * x.den) ** 2, 0);
  const se = Math.sqrt((g / (g - 1)) * ss) / den;
  const t = studentTQuantile(1 - (1 - confidence) / 2, df);
  return { ratio, se, df, interval: { lo: Math.max(0, ratio - t * se), hi: ratio + t * se } };
}

/** Welch's t-test for the difference of two estimates with their standard errors and dfs. */
export function welchTest(a: number, seA: number, dfA: number, b: number, seB: number, dfB: number): TestResult & { readonly df: number } {
  const va = seA * seA;
  const vb = seB * seB;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { stat: 0, p: a === b ? 1 : 0, df: dfA + dfB };
  // Welch–Satterthwaite degrees of freedom (an estimate without any has none to give: ∞).
  const parts = (dfA > 0 ? (va * va) / dfA : 0) + (dfB > 0 ? (vb * vb) / dfB : 0);
  const df = parts > 0 ? (va + vb) ** 2 / parts : Number.POSITIVE_INFINITY;
  const stat = (a - b) / se;
  return { stat, p: twoSidedP(stat, df), df };
}

/** Holm's step-down adjustment: adjusted p-values in the input order. */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const adjusted = new Array<number>(m).fill(1);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/**
 * Log-likelihood ratio of k events in n Bernoulli trials for H1: p = p1 against
 * H0: p = p0 (p0 < p1). Wald's SPRT rejects H0 once it reaches ln(1/α); without a
 * lower boundary the false-rejection probability at p ≤ p0 stays ≤ α under continuous
 * monitoring (Ville's inequality on the likelihood-ratio martingale).
 */
export function bernoulliLlr(k: number, n: number, p0: number, p1: number): number {
  return k * Math.log(p1 / p0) + (n - k) * Math.log((1 - p1) / (1 - p0));
}
