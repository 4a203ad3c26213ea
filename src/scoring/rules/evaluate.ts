/**
 * Score a request: run every compiled rule over the CEL values, add the weights of the
 * live ones that match, and keep shadow-mode matches apart so they never change the
 * score.
 */
import type { Reason } from "../../shared/decision.ts";
import type { CompiledCore, CompiledOverride } from "./compiled.ts";

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
export function evaluateRules(ruleset: CompiledCore, values: Record<string, unknown>): Score {
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

/** The override that decides, if any: a matching deny wins over a matching allow. */
export interface OverrideMatch {
  readonly override: CompiledOverride | null;
  readonly failedRules: readonly string[];
}

/** Evaluate overrides in file order; deny beats allow whatever the order, so an allowlist cannot undo a denylist. */
export function evaluateOverrides(ruleset: CompiledCore, values: Record<string, unknown>): OverrideMatch {
  let allow: CompiledOverride | null = null;
  const failedRules: string[] = [];
  for (const o of ruleset.overrides) {
    let matched: unknown;
    try {
      matched = o.test(values);
    } catch {
      failedRules.push(o.id);
      continue;
    }
    if (matched !== true) continue;
    if (o.verdict === "deny") return { override: o, failedRules };
    allow ??= o;
  }
  return { override: allow, failedRules };
}
