/**
 * Score a request: run every compiled rule over the CEL values, add the weights of the
 * live ones that match, and keep shadow-mode matches apart so they never change the
 * score.
 */
import type { Reason } from "../decision.ts";
import type { CompiledRuleset } from "./compile.ts";

/** The outcome of scoring. */
export interface Score {
  readonly score: number;
  readonly reasons: readonly Reason[];
  /** Rules in `mode: shadow` that matched; recorded, never scored. */
  readonly shadowReasons: readonly Reason[];
  /** Ids of rules whose evaluation threw (treated as not matching). */
  readonly failedRules: readonly string[];
}

/** Evaluate every rule; a rule that throws counts as not matching and is reported. */
export function evaluateRules(ruleset: CompiledRuleset, values: Record<string, unknown>): Score {
  let score = 0;
  const reasons: Reason[] = [];
  const shadowReasons: Reason[] = [];
  const failedRules: string[] = [];
  for (const rule of ruleset.rules) {
    let matched: unknown;
    try {
      matched = rule.test(values);
    } catch {
      failedRules.push(rule.id);
      continue;
    }
    if (matched !== true) continue;
    const reason: Reason = { code: rule.reason, rule: rule.id, weight: rule.weight };
    if (rule.mode === "shadow") {
      shadowReasons.push(reason);
    } else {
      score += rule.weight;
      reasons.push(reason);
    }
  }
  return { score, reasons, shadowReasons, failedRules };
}
