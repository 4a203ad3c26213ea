/**
 * An experiment's report from its tallies: per arm, exposures, completion, abandonment
 * and fraud rates with Wilson intervals, cost per completed reset with a delta-method
 * interval over random groups, guardrail state; the arms ranked by cost per completed
 * reset; tests against the leader; and a verdict in plain words. Pure: the Worker
 * (`GET /__riskgate/experiments/<id>`) and the CLI (`riskgate experiments report`) both
 * render this object. Formulas: docs/experiments.md.
 */
import type { TallyRow } from "../../store/port.ts";
import type { ArmReport, Rate } from "./arm-report.ts";
import type { CompiledExperiment, ExperimentRuleset } from "./compile.ts";
import { MICROS } from "./costs.ts";
import { checkGuardrails } from "./guardrails.ts";
import { HOLDOUT_ARM } from "./schema.ts";
import { ratioOfSums, wilson } from "./stats.ts";
import { type ArmCounts, countsByArm, emptyCounts } from "./tallies.ts";
import { compareArms, type Comparison, type Verdict, verdictFor } from "./verdict.ts";

export type { ArmReport, Rate } from "./arm-report.ts";

/** Cumulative exposures of one arm, hour by hour. */
export interface Series {
  readonly arm: string;
  readonly points: readonly { readonly t: string; readonly cumulative: number }[];
}

/** The whole report. */
export interface ExperimentReport {
  readonly id: string;
  readonly description: string;
  readonly tier: string;
  readonly start: string;
  readonly end: string;
  readonly status: "scheduled" | "running" | "ended";
  readonly currency: string;
  readonly generatedAt: string;
  readonly arms: readonly ArmReport[];
  readonly comparisons: readonly Comparison[];
  readonly verdict: Verdict;
  readonly series: readonly Series[];
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function rate(k: number, n: number): Rate {
  return { value: n > 0 ? k / n : null, ci: wilson(k, n) };
}

function armReport(experiment: CompiledExperiment, c: ArmCounts, channels: readonly string[], share: number): ArmReport {
  const groups = c.costGroups.map((cost, i) => ({ num: cost / MICROS, den: c.completionGroups[i] ?? 0 }));
  const ratio = ratioOfSums(groups);
  const stop = [...c.stopped.entries()][0];
  const holdout = c.arm === HOLDOUT_ARM;
  return {
    arm: c.arm,
    holdout,
    channels,
    share,
    exposures: c.exposures,
    sends: c.sends,
    verifications: c.verifications,
    completions: c.completions,
    abandonments: c.abandonments,
    fraudReports: c.fraudReports,
    cost: c.costMicros / MICROS,
    completionRate: rate(c.completions, c.exposures),
    abandonmentRate: rate(c.abandonments, c.exposures),
    fraudRate: rate(c.fraudReports, c.exposures),
    costPerCompletion: { value: ratio.ratio, ci: ratio.interval, se: ratio.se, df: ratio.df },
    stopped: stop === undefined ? null : { guardrail: stop[0], date: stop[1] === null ? null : new Date(stop[1] * DAY_MS).toISOString().slice(0, 10) },
    guardrails: holdout ? [] : checkGuardrails(experiment, c),
    rank: null,
  };
}

/** Cumulative exposures per arm at every hour any arm saw one. */
export function exposureSeries(counts: readonly ArmCounts[]): Series[] {
  const hours = [...new Set(counts.flatMap((c) => [...c.exposuresByHour.keys()]))].sort((a, b) => a - b);
  return counts.map((c) => {
    let running = 0;
    const points = hours.map((h) => {
      running += c.exposuresByHour.get(h) ?? 0;
      return { t: new Date(h * HOUR_MS).toISOString(), cumulative: running };
    });
    return { arm: c.arm, points };
  });
}

/** Rank arms that are live and have completions: cheapest per completed reset first. */
function ranked(arms: ArmReport[]): ArmReport[] {
  const eligible = arms.filter((a) => a.stopped === null && a.costPerCompletion.value !== null);
  eligible.sort((a, b) => (a.costPerCompletion.value ?? 0) - (b.costPerCompletion.value ?? 0));
  const rankOf = new Map(eligible.map((a, i) => [a.arm, i + 1]));
  return arms.map((a) => ({ ...a, rank: rankOf.get(a.arm) ?? null })).sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9));
}

/** Build the report of `experiment` from its tally rows, as of `now`. */
export function buildReport(ruleset: ExperimentRuleset, experiment: CompiledExperiment, rows: readonly TallyRow[], now: number): ExperimentReport {
  const names = [...experiment.arms.map((a) => a.id), ...(experiment.holdout > 0 ? [HOLDOUT_ARM] : [])];
  const counts = countsByArm(rows, names);
  const totalWeight = experiment.arms.reduce((s, a) => s + a.weight, 0);
  const tierChannels = ruleset.tiers.find((t) => t.name === experiment.tier)?.channels ?? [];
  const arms = ranked(
    names.map((name) => {
      const spec = experiment.arms.find((a) => a.id === name);
      const share = spec === undefined ? experiment.holdout : ((1 - experiment.holdout) * spec.weight) / totalWeight;
      return armReport(experiment, counts.get(name) ?? emptyCounts(name), spec?.channels ?? tierChannels, share);
    }),
  );
  const status = now < experiment.startMs ? "scheduled" : now >= experiment.endMs ? "ended" : "running";
  const comparisons = compareArms(arms);
  return {
    id: experiment.id,
    description: experiment.description,
    tier: experiment.tier,
    start: new Date(experiment.startMs).toISOString(),
    end: new Date(experiment.endMs).toISOString(),
    status,
    currency: ruleset.spec.currency,
    generatedAt: new Date(now).toISOString(),
    arms,
    comparisons,
    verdict: verdictFor(arms, comparisons, status, new Date(experiment.endMs).toISOString().slice(0, 10), ruleset.spec.currency),
    series: exposureSeries(names.map((n) => counts.get(n)).filter((c): c is ArmCounts => c !== undefined)),
  };
}
