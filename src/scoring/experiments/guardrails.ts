/**
 * Guardrails: stop an arm whose fraud or abandonment rate is above the rule file's bound,
 * as soon as the evidence says so. Each bound is a one-sided sequential probability
 * ratio test (Wald's SPRT) on events per exposure, H0: rate = max against H1: rate =
 * detect, with no lower boundary: it may be evaluated after every outcome, at any time,
 * and the chance of ever stopping an arm whose rate is at most `max` stays below α
 * (Ville's inequality). Outcomes that have not arrived yet only lower the statistic, so
 * reporting delays make the test slower, never looser. docs/experiments.md has the maths.
 */
import { bernoulliLlr } from "./stats.ts";
import type { CompiledExperiment, CompiledGuardrail, GuardrailMetric } from "./compile.ts";
import type { ArmCounts } from "./tallies.ts";

/** One guardrail's test on one arm. */
export interface GuardrailCheck {
  readonly metric: GuardrailMetric;
  readonly max: number;
  readonly detect: number;
  readonly events: number;
  readonly exposures: number;
  /** Log-likelihood ratio of H1 over H0. */
  readonly llr: number;
  /** ln(1/α): the statistic stops the arm at or above it. */
  readonly threshold: number;
  /** True when the arm has enough exposures and the statistic crossed the threshold. */
  readonly crossed: boolean;
}

function eventsFor(metric: GuardrailMetric, counts: ArmCounts): number {
  return metric === "fraud_rate" ? counts.fraudReports : counts.abandonments;
}

/** Test one guardrail on an arm's counts. */
export function checkGuardrail(experiment: CompiledExperiment, guardrail: CompiledGuardrail, counts: ArmCounts): GuardrailCheck {
  const events = eventsFor(guardrail.metric, counts);
  // An exposure tally lost to a store failure must not let events outnumber trials.
  const exposures = Math.max(counts.exposures, events);
  const llr = bernoulliLlr(events, exposures, guardrail.max, guardrail.detect);
  const threshold = Math.log(1 / experiment.alpha);
  return {
    metric: guardrail.metric,
    max: guardrail.max,
    detect: guardrail.detect,
    events,
    exposures,
    llr,
    threshold,
    crossed: exposures >= experiment.minExposures && llr >= threshold,
  };
}

/** Every guardrail's test on an arm. */
export function checkGuardrails(experiment: CompiledExperiment, counts: ArmCounts): GuardrailCheck[] {
  return experiment.guardrails.map((g) => checkGuardrail(experiment, g, counts));
}

/** The first guardrail the arm's counts trip, or null. */
export function trippedGuardrail(experiment: CompiledExperiment, counts: ArmCounts): GuardrailMetric | null {
  return checkGuardrails(experiment, counts).find((c) => c.crossed)?.metric ?? null;
}
