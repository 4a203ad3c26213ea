/**
 * Experiments as the request path uses them: dates in epoch ms, guardrail defaults
 * resolved, the segment condition parsed. Built with the rest of the rule set, once
 * per isolate (src/scoring/ruleset/compile.ts), never per request.
 */
import type { CompiledCore } from "../rules/compiled.ts";
import type { Condition } from "../rules/context-schema.ts";
import { type ExperimentSpec, timestampMs } from "./schema.ts";

/**
 * What assignment, the monitor and the reports read of a compiled rule set: its parts and
 * its experiments (`CompiledRuleset`, src/scoring/ruleset/compile.ts, satisfies it).
 */
export interface ExperimentRuleset extends CompiledCore {
  readonly experiments: readonly CompiledExperiment[];
}

/** One arm. */
export interface CompiledArm {
  readonly id: string;
  readonly channels: readonly string[];
  readonly weight: number;
}

/** The per-exposure rates a guardrail can bound. */
export type GuardrailMetric = "fraud_rate" | "abandonment_rate";

/** One guardrail: stop the arm once the SPRT says its rate is above `max`. */
export interface CompiledGuardrail {
  readonly metric: GuardrailMetric;
  /** H0: the rate is `max`. */
  readonly max: number;
  /** H1: the rate is `detect` (> max). */
  readonly detect: number;
}

/** An experiment ready to run. */
export interface CompiledExperiment {
  readonly id: string;
  readonly description: string;
  readonly tier: string;
  /** Enrolment runs for start ≤ now < end. */
  readonly startMs: number;
  readonly endMs: number;
  readonly holdout: number;
  readonly arms: readonly CompiledArm[];
  /** The segment condition; null enrols the whole tier. */
  readonly segment: Condition | null;
  readonly guardrails: readonly CompiledGuardrail[];
  /** False-stop probability of each guardrail test at exactly `max`. */
  readonly alpha: number;
  readonly minExposures: number;
}

/** Compile one validated experiment. */
export function compileExperiment(spec: ExperimentSpec, parse: (when: string) => Condition): CompiledExperiment {
  const guardrails: CompiledGuardrail[] = [];
  for (const metric of ["fraud_rate", "abandonment_rate"] as const) {
    const bound = spec.guardrails[metric];
    if (bound === undefined) continue;
    guardrails.push({ metric, max: bound.max, detect: bound.detect ?? Math.min(2 * bound.max, (1 + bound.max) / 2) });
  }
  return {
    id: spec.id,
    description: spec.description ?? "",
    tier: spec.tier,
    startMs: timestampMs(spec.start),
    endMs: timestampMs(spec.end),
    holdout: spec.holdout,
    arms: spec.arms.map((a) => ({ id: a.id, channels: a.channels, weight: a.weight })),
    segment: spec.when === undefined ? null : parse(spec.when),
    guardrails,
    alpha: spec.guardrails.alpha,
    minExposures: spec.guardrails.min_exposures,
  };
}

/** The experiments enrolling at `now`. */
export function activeExperiments(experiments: readonly CompiledExperiment[], now: number): CompiledExperiment[] {
  return experiments.filter((e) => e.startMs <= now && now < e.endMs);
}
