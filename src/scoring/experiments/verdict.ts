/**
 * Which arm is ahead, and whether the evidence is enough, in plain words. The leader is
 * the ranked arm with the lowest cost per completed reset; it is compared with every
 * other ranked arm by Welch's t-test on cost per completed reset (Holm-adjusted across
 * the comparisons), and by two-proportion z-tests on completion and fraud rates. The
 * evidence is "enough" when every adjusted p-value is below 0.05 and every compared arm
 * has at least MIN_COMPLETIONS completed resets. docs/experiments.md explains the choice.
 */
import type { ArmReport } from "./arm-report.ts";
import { holm, normalQuantile, studentTQuantile, twoProportionTest, welchTest } from "./stats.ts";

/** Significance level of the verdict. */
export const ALPHA = 0.05;
/** Below this many completions per arm, the normal approximations are not trusted. */
export const MIN_COMPLETIONS = 30;
/** Power the "exposures still needed" estimate aims for. */
export const POWER = 0.8;

/** The leader against one other ranked arm. */
export interface Comparison {
  readonly arm: string;
  readonly leader: string;
  /** True for the holdout: reported against the leader, outside the Holm family. */
  readonly baseline: boolean;
  /** Cost per completed reset, this arm minus the leader. */
  readonly costDiff: number;
  readonly costP: number;
  /** Holm-adjusted across the comparisons with the leader. */
  readonly costPAdjusted: number;
  readonly df: number;
  /** Completion rate, this arm minus the leader, and its test. */
  readonly completionDiff: number;
  readonly completionP: number;
  /** Fraud rate, this arm minus the leader, and its test. */
  readonly fraudDiff: number;
  readonly fraudP: number;
  /** Roughly how many more exposures per arm would detect the current difference (80 % power); null when unknown. */
  readonly moreExposures: number | null;
}

/** The plain-words conclusion. */
export interface Verdict {
  readonly leader: string | null;
  readonly enough: boolean;
  readonly provisional: boolean;
  readonly headline: string;
  readonly details: readonly string[];
}

const r = (a: ArmReport) => a.costPerCompletion.value ?? Number.NaN;
const rateOf = (k: number, n: number) => (n > 0 ? k / n : 0);

function moreExposures(leader: ArmReport, other: ArmReport, seDiff: number, diff: number, df: number): number | null {
  if (!(diff > 0) || !(seDiff > 0)) return null;
  // SE shrinks as 1/√n: the n at which the difference sits (t + z_power) SEs from zero.
  const target = diff / (studentTQuantile(1 - ALPHA / 2, df) + normalQuantile(POWER));
  const n = Math.min(leader.exposures, other.exposures);
  return Math.max(0, Math.ceil(n * (seDiff / target) ** 2 - n));
}

/** The leader: the cheapest ranked arm per completed reset (the holdout is a baseline, not a candidate). */
export function leaderOf(arms: readonly ArmReport[]): ArmReport | undefined {
  return arms.filter((a) => a.rank !== null && !a.holdout).sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0))[0];
}

function compareOne(leader: ArmReport, o: ArmReport, t: { p: number; df: number }, adjusted: number): Comparison {
  const seDiff = Math.hypot(o.costPerCompletion.se ?? 0, leader.costPerCompletion.se ?? 0);
  return {
    arm: o.arm,
    leader: leader.arm,
    baseline: o.holdout,
    costDiff: r(o) - r(leader),
    costP: t.p,
    costPAdjusted: adjusted,
    df: t.df,
    completionDiff: rateOf(o.completions, o.exposures) - rateOf(leader.completions, leader.exposures),
    completionP: twoProportionTest(o.completions, o.exposures, leader.completions, leader.exposures).p,
    fraudDiff: rateOf(o.fraudReports, o.exposures) - rateOf(leader.fraudReports, leader.exposures),
    fraudP: twoProportionTest(o.fraudReports, o.exposures, leader.fraudReports, leader.exposures).p,
    moreExposures: moreExposures(leader, o, seDiff, Math.abs(r(o) - r(leader)), Number.isFinite(t.df) ? t.df : 1e6),
  };
}

/**
 * Compare the leader with every other ranked arm and with the holdout. Holm's
 * adjustment runs over the arms only: the holdout comparison is reported as a baseline
 * and does not decide whether the evidence is enough.
 */
export function compareArms(arms: readonly ArmReport[]): Comparison[] {
  const leader = leaderOf(arms);
  if (leader === undefined) return [];
  const others = arms.filter((a) => a.rank !== null && a !== leader);
  const raw = others.map((o) => welchTest(r(o), o.costPerCompletion.se ?? 0, o.costPerCompletion.df, r(leader), leader.costPerCompletion.se ?? 0, leader.costPerCompletion.df));
  const family = others.map((o, i) => ({ o, i })).filter(({ o }) => !o.holdout);
  const adjusted = holm(family.map(({ i }) => raw[i]?.p ?? 1));
  const adjustedOf = new Map(family.map(({ i }, j) => [i, adjusted[j] ?? 1]));
  return others.map((o, i) => compareOne(leader, o, raw[i] ?? { p: 1, df: 0 }, adjustedOf.get(i) ?? raw[i]?.p ?? 1));
}

/** A number for prose: 4 significant digits, no exponent for everyday magnitudes. */
export function fmt(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "n/a";
  if (n === 0) return "0";
  return Math.abs(n) >= 1000 ? Math.round(n).toLocaleString("en-US") : Number(n.toPrecision(4)).toString();
}

/** A p-value for prose and tables. */
export function fmtP(p: number): string {
  return p < 0.0001 ? "< 0.0001" : fmt(p);
}

const pct = (x: number) => `${fmt(x * 100)} %`;
const pText = (p: number) => (p < 0.0001 ? "p < 0.0001" : `p = ${fmt(p)}`);
const label = (a: { arm: string; holdout?: boolean }) => (a.holdout === true ? "the holdout (the tier's own channels)" : `"${a.arm}"`);

function stopNotes(arms: readonly ArmReport[]): string[] {
  return arms.filter((a) => a.stopped !== null).map((a) => {
    const what = a.stopped?.guardrail === "fraud_rate" ? "fraud rate" : "abandonment rate";
    return `${label(a)} was stopped by its ${what} guardrail${a.stopped?.date ? ` on ${a.stopped.date}` : ""}; its exposures now go to the other arms.`;
  });
}

function evidenceNote(arms: readonly ArmReport[], family: readonly Comparison[], enough: boolean): string {
  if (enough) {
    return `The evidence is enough: the difference in cost per completed reset is significant at the 5 % level (Welch's t-test, Holm-adjusted), with at least ${MIN_COMPLETIONS} completed resets per arm.`;
  }
  const need = Math.max(0, ...family.map((c) => c.moreExposures ?? 0));
  const few = arms.some((a) => a.rank !== null && !a.holdout && a.completions < MIN_COMPLETIONS);
  return `The evidence is not enough yet${few ? ` (an arm has fewer than ${MIN_COMPLETIONS} completed resets)` : ""}${need > 0 ? `; at the current difference, roughly ${fmt(need)} more exposures per arm would settle it` : ""}.`;
}

function comparisonNotes(leader: ArmReport, comparisons: readonly Comparison[], name: (arm: string) => string, currency: string): string[] {
  const notes: string[] = [];
  for (const c of comparisons) {
    if (c.baseline) {
      const cheaper = c.costDiff < 0 && c.costP < ALPHA;
      notes.push(`Baseline: ${name(c.arm)} costs ${fmt(r(leader) + c.costDiff)} ${currency} per completed reset (${pText(c.costP)} against ${label(leader)})${cheaper ? `: cheaper than every arm, so the tier's own channels are the better choice` : ""}.`);
    }
    if (c.fraudDiff < 0 && c.fraudP < ALPHA) {
      notes.push(`Warning: ${label(leader)} lets through more fraud than ${name(c.arm)} (${pct(-c.fraudDiff)} more fraud reports per exposure, ${pText(c.fraudP)}); do not ship it on cost alone.`);
    }
    if (c.completionP < ALPHA) {
      notes.push(`${name(c.arm)} completes ${c.completionDiff > 0 ? "more" : "fewer"} resets than ${label(leader)} (${pct(Math.abs(c.completionDiff))} of exposures, ${pText(c.completionP)}).`);
    }
  }
  return notes;
}

/** The verdict for ranked arms and the comparisons with the leader. */
export function verdictFor(arms: readonly ArmReport[], comparisons: readonly Comparison[], status: string, endDate: string, currency: string): Verdict {
  const notes = stopNotes(arms);
  const provisional = status !== "ended";
  const caveat = provisional ? [`Until the end date (${endDate}) treat this as provisional: the test assumes the data are looked at once, at the end.`] : [];
  if (arms.every((a) => a.exposures === 0)) return { leader: null, enough: false, provisional, headline: "No exposures yet.", details: notes };
  const leader = leaderOf(arms);
  const byName = new Map(arms.map((a) => [a.arm, a]));
  const name = (arm: string) => label(byName.get(arm) ?? { arm });
  const family = comparisons.filter((c) => !c.baseline);
  if (leader === undefined || family.length === 0) {
    const headline = leader === undefined ? "No arm has a completed reset yet, so none can be ranked." : `Only ${label(leader)} can be ranked; there is no other arm to compare it with.`;
    const extra = leader === undefined ? [] : comparisonNotes(leader, comparisons, name, currency);
    return { leader: leader?.arm ?? null, enough: false, provisional, headline, details: [...notes, ...extra, ...caveat] };
  }
  const enough = family.every((c) => c.costPAdjusted < ALPHA) && arms.filter((a) => a.rank !== null && !a.holdout).every((a) => a.completions >= MIN_COMPLETIONS);
  const cpc = leader.costPerCompletion;
  const vs = family.map((c) => `${fmt((cpc.value ?? 0) + c.costDiff)} for ${name(c.arm)} (${pText(c.costPAdjusted)})`).join(", ");
  const headline = `${label(leader)} is ahead: ${fmt(cpc.value)} ${currency} per completed reset (95 % CI ${fmt(cpc.ci?.lo ?? null)}–${fmt(cpc.ci?.hi ?? null)}) against ${vs}.`;
  const details = [...notes, evidenceNote(arms, family, enough), ...comparisonNotes(leader, comparisons, name, currency)];
  return { leader: leader.arm, enough, provisional, headline, details: [...details, ...caveat] };
}
