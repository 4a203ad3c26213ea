/**
 * The request path after context: signals → rules → policy → decision, in one
 * direction. The only I/O is the single store batch; its failure becomes a named
 * fail mode in the decision's `errors`, never an accidental allow.
 */
import type { RequestContext } from "./context/index.ts";
import type { Decision, DependencyError, Reason } from "./decision.ts";
import { applyPolicy } from "./policy/index.ts";
import type { CompiledRuleset } from "./rules/compile.ts";
import { type Facts, toCelValues } from "./rules/context-schema.ts";
import { evaluateRules } from "./rules/evaluate.ts";
import { planSignals, signalFacts } from "./signals/index.ts";
import { type ObserveResult, type Store, StoreError } from "./store/port.ts";

/** What deciding needs. */
export interface PipelineDeps {
  readonly ruleset: CompiledRuleset;
  readonly store: Store;
  readonly newId: () => string;
  /** Clock for the store latency metric; without it `storeMs` is null. */
  readonly now?: () => number;
}

/** A decision and the facts that produced it (facts go to explanations, never the client). */
export interface PipelineResult {
  readonly decision: Decision;
  readonly facts: Facts;
  readonly shadowReasons: readonly Reason[];
  /** Latency of the one store call (for metrics; never used to decide). */
  readonly storeMs: number | null;
}

/** Decide one reset request. */
export async function decide(ctx: RequestContext, deps: PipelineDeps): Promise<PipelineResult> {
  const { ruleset, store } = deps;
  const errors: DependencyError[] = [];
  const plan = planSignals(ctx, ruleset);
  let result: ObserveResult | null = null;
  const storeStarted = deps.now?.();
  try {
    result = await store.observe(plan.observe);
  } catch (err) {
    errors.push({
      dependency: "store",
      code: err instanceof StoreError ? err.code : "STORE_UNAVAILABLE",
      failMode: ruleset.spec.fail_modes.store,
    });
  }
  const storeMs = storeStarted === undefined || deps.now === undefined ? null : deps.now() - storeStarted;
  const facts = signalFacts(ctx, plan, result);
  const scored = evaluateRules(ruleset, toCelValues(ruleset.schema, facts));
  for (const rule of scored.failedRules) {
    // A rule that cannot run is a defect in the rule set, not a reason to block users.
    errors.push({ dependency: "rules", code: `RULE_FAILED:${rule}`, failMode: "allow" });
  }
  const outcome = applyPolicy(ruleset, scored.score, errors);
  const reasons = [...scored.reasons];
  if (errors.some((e) => e.failMode !== "allow")) {
    reasons.push({ code: "FAIL_MODE_APPLIED", rule: "policy.fail-mode", weight: 0 });
  }
  return {
    decision: {
      id: deps.newId(),
      verdict: outcome.verdict,
      tier: outcome.tier,
      score: scored.score,
      channel: outcome.channel,
      reasons,
      mode: "live",
      errors,
      rulesetVersion: ruleset.version,
    },
    facts,
    shadowReasons: scored.shadowReasons,
    storeMs,
  };
}
