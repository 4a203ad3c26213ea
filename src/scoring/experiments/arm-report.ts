/**
 * One arm's figures in an experiment report (report.ts builds them, verdict.ts compares
 * them): the types both share, apart so neither imports the other's.
 */
import type { GuardrailMetric } from "./compile.ts";
import type { GuardrailCheck } from "./guardrails.ts";
import type { Interval } from "./stats.ts";

/** A rate with its 95 % interval (null interval without exposures). */
export interface Rate {
  readonly value: number | null;
  readonly ci: Interval | null;
}

/** One arm (or the holdout) in a report. */
export interface ArmReport {
  readonly arm: string;
  readonly holdout: boolean;
  readonly channels: readonly string[];
  /** Share of eligible traffic the rule file gives it. */
  readonly share: number;
  readonly exposures: number;
  readonly sends: number;
  readonly verifications: number;
  readonly completions: number;
  readonly abandonments: number;
  readonly fraudReports: number;
  /** Total cost, in the currency. */
  readonly cost: number;
  readonly completionRate: Rate;
  readonly abandonmentRate: Rate;
  readonly fraudRate: Rate;
  /** Cost per completed reset with its 95 % interval, standard error and degrees of freedom. */
  readonly costPerCompletion: { readonly value: number | null; readonly ci: Interval | null; readonly se: number | null; readonly df: number };
  readonly stopped: { readonly guardrail: GuardrailMetric; readonly date: string | null } | null;
  readonly guardrails: readonly GuardrailCheck[];
  /** 1 = cheapest per completed reset among arms that can be ranked; null when not ranked. */
  readonly rank: number | null;
}
