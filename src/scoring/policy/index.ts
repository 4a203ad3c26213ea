/**
 * Policy: score (or override) → tier → verdict and channels, then the fail modes of any
 * dependency that failed. Privileged accounts use the stricter tier table. Policy never
 * parses HTTP and never calls the store.
 */
import type { DependencyError, FailMode, Reason, Verdict } from "../../shared/decision.ts";
import type { CompiledCore, CompiledOverride } from "../rules/compiled.ts";
import type { TierSpec } from "../rules/schema.ts";
import { type ChannelInput, type Exclusion, exclusionReasons, selectChannels } from "./channels.ts";

/** What policy needs besides the rule set. */
export interface PolicyInput {
  readonly score: number;
  /** An override that short-circuits scoring, if one matched. */
  readonly override: CompiledOverride | null;
  readonly privileged: boolean;
  readonly errors: readonly DependencyError[];
  readonly channel: ChannelInput;
}

/** What policy concluded. */
export interface PolicyOutcome {
  readonly tier: string;
  readonly verdict: Verdict;
  /** The first usable channel, or `none`. */
  readonly channel: string;
  readonly channels: readonly string[];
  readonly captcha: boolean;
  /** Reasons policy adds (weight 0): privileged table, channel exclusions, fail mode. */
  readonly reasons: readonly Reason[];
  readonly excluded: readonly Exclusion[];
}

const SEVERITY: Record<Verdict, number> = { allow: 0, challenge: 1, deny: 2 };

/** The stricter of two verdicts. */
export function stricter(a: Verdict, b: Verdict): Verdict {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/** The tier table for an account: the privileged one when it applies and exists. */
export function tierTable(ruleset: CompiledCore, privileged: boolean): readonly TierSpec[] {
  return privileged && ruleset.privileged !== null ? ruleset.privileged.tiers : ruleset.tiers;
}

/** The tier a score falls in: the highest `min_score` not above it (tiers sorted descending). */
export function tierFor(tiers: readonly TierSpec[], score: number): TierSpec {
  // Validation guarantees the lowest tier starts at or below 0; scores below it use it too.
  return tiers.find((t) => score >= t.min_score) ?? (tiers[tiers.length - 1] as TierSpec);
}

function overrideTier(tiers: readonly TierSpec[], override: CompiledOverride): TierSpec {
  const named = override.tier === null ? undefined : tiers.find((t) => t.name === override.tier);
  if (named !== undefined) return named;
  return (override.verdict === "allow" ? tiers[tiers.length - 1] : tiers[0]) as TierSpec;
}

/** Apply tiers, channels and fail modes. A failed dependency can only make the verdict stricter. */
export function applyPolicy(ruleset: CompiledCore, input: PolicyInput): PolicyOutcome {
  const usePrivileged = input.privileged && ruleset.privileged !== null;
  const tiers = tierTable(ruleset, input.privileged);
  const tier = input.override === null ? tierFor(tiers, input.score) : overrideTier(tiers, input.override);
  let verdict: Verdict = input.override?.verdict ?? tier.verdict;
  const reasons: Reason[] = [];
  if (usePrivileged) reasons.push({ code: "ACCOUNT_PRIVILEGED", rule: "policy.privileged", weight: 0 });
  let choice = { channels: [] as readonly string[], excluded: [] as readonly Exclusion[] };
  if (verdict !== "deny") {
    choice = selectChannels(ruleset, tier, input.channel);
    reasons.push(...exclusionReasons(choice.excluded));
    if (choice.channels.length === 0) {
      verdict = stricter(verdict, tier.no_channel);
      reasons.push({ code: "NO_CHANNEL_AVAILABLE", rule: `tier.${tier.name}`, weight: 0 });
    }
  }
  for (const e of input.errors) verdict = stricter(verdict, failVerdict(e.failMode));
  if (input.errors.some((e) => e.failMode !== "allow")) {
    reasons.push({ code: "FAIL_MODE_APPLIED", rule: "policy.fail-mode", weight: 0 });
  }
  const channels = verdict === "deny" ? [] : choice.channels;
  return {
    tier: tier.name,
    verdict,
    channel: channels[0] ?? "none",
    channels,
    captcha: tier.captcha || verdict === "challenge",
    reasons,
    excluded: choice.excluded,
  };
}

function failVerdict(mode: FailMode): Verdict {
  return mode;
}
