/**
 * Policy: score → tier → verdict and channel, then the fail modes of any dependency
 * that failed. Policy never parses HTTP and never calls the store.
 */
import type { DependencyError, FailMode, Verdict } from "../decision.ts";
import type { CompiledRuleset } from "../rules/compile.ts";
import type { TierSpec } from "../rules/schema.ts";

/** What policy concluded. */
export interface PolicyOutcome {
  readonly tier: string;
  readonly verdict: Verdict;
  readonly channel: string;
  readonly captcha: boolean;
}

const SEVERITY: Record<Verdict, number> = { allow: 0, challenge: 1, deny: 2 };

/** The stricter of two verdicts. */
export function stricter(a: Verdict, b: Verdict): Verdict {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/** The tier a score falls in: the highest `min_score` not above it. */
export function tierFor(ruleset: CompiledRuleset, score: number): TierSpec {
  const tiers = ruleset.tiers;
  // Validation guarantees the lowest tier starts at or below 0; scores below it use it too.
  return tiers.find((t) => score >= t.min_score) ?? (tiers[tiers.length - 1] as TierSpec);
}

/** Apply tier and fail modes. A failed dependency can only make the verdict stricter. */
export function applyPolicy(
  ruleset: CompiledRuleset,
  score: number,
  errors: readonly DependencyError[],
): PolicyOutcome {
  const tier = tierFor(ruleset, score);
  let verdict: Verdict = tier.verdict;
  for (const e of errors) verdict = stricter(verdict, failVerdict(e.failMode));
  return {
    tier: tier.name,
    verdict,
    channel: verdict === "deny" ? "none" : (tier.channels[0] ?? "none"),
    captcha: tier.captcha || verdict === "challenge",
  };
}

function failVerdict(mode: FailMode): Verdict {
  return mode;
}
