/**
 * Policy: score (or override) → tier → verdict and channels, then the fail modes of any
 * dependency that failed. Privileged accounts use the stricter tier table. Policy never
 * parses HTTP and never calls the store.
 */
import type { DependencyError, FailMode, Reason, Verdict } from "../../shared/decision.ts";
import type { CompiledCore, CompiledOverride } from "../rules/compiled.ts";
import type { TierSpec } from "../rules/schema.ts";
import { type ChannelInput, type Exclusion, exclusionReasons, selectChannels } from "./channels.ts";

/**
 * The score by the kind of facts its rules read (rules/fact-classes.ts): what each part may do
 * to the answer the client sees is capped (docs/architecture.md, "What the client sees").
 */
export interface ScoreParts {
  /** Rules reading request-side facts only: may challenge, deny (and ladders 429). */
  readonly request: number;
  /** Rules reading counts others can inflate for the account: at most a CAPTCHA. */
  readonly inflatable: number;
  /** Rules reading account history or the privileged tag: tier and channel, or a silent deny. */
  readonly account: number;
  /** Rules reading both account and inflatable facts: the tier told to the origin only. */
  readonly mixed: number;
}

/** What policy needs besides the rule set. */
export interface PolicyInput {
  /** The whole score (the sum of `parts`). */
  readonly score: number;
  /** The score by kind of fact; absent means every rule read request-side facts only. */
  readonly parts?: ScoreParts;
  /** An override that short-circuits scoring, if one matched. */
  readonly override: CompiledOverride | null;
  readonly privileged: boolean;
  readonly errors: readonly DependencyError[];
  readonly channel: ChannelInput;
}

/** What policy concluded. */
export interface PolicyOutcome {
  readonly tier: string;
  /** The verdict, `deny` included when it is silent (see `silent`). */
  readonly verdict: Verdict;
  /** The first usable channel, or `none`. */
  readonly channel: string;
  readonly channels: readonly string[];
  /** Whether the client must show a CAPTCHA (request-side and inflatable facts only). */
  readonly captcha: boolean;
  /**
   * The deny rests on account-side facts: the client must see exactly what it would
   * have seen without them (a CAPTCHA asked for on request-side facts is still asked,
   * and solving it gets the uniform 202, not a forward).
   */
  readonly silent: boolean;
  /** Whether a solved CAPTCHA lets the request past (the client-visible tier has a usable channel). */
  readonly liftable: boolean;
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

/** The tier itself, or the strictest tier of `tiers` that does not deny when it does. */
function withoutDeny(tiers: readonly TierSpec[], tier: TierSpec): TierSpec {
  return tier.verdict !== "deny" ? tier : (tiers.find((t) => t.verdict !== "deny") ?? tier);
}

const capAtChallenge = (v: Verdict): Verdict => (v === "deny" ? "challenge" : v);

/**
 * Apply tiers, channels and fail modes. A failed dependency can only make the verdict
 * stricter. The client-visible verdict comes from the ordinary tier table on the
 * request-side part of the score, plus the inflatable part capped at a CAPTCHA; the
 * account-side part (and the privileged table) only chooses the tier and channels told
 * to the origin, or denies silently.
 */
export function applyPolicy(ruleset: CompiledCore, input: PolicyInput): PolicyOutcome {
  const usePrivileged = input.privileged && ruleset.privileged !== null;
  const table = tierTable(ruleset, input.privileged);
  const reasons: Reason[] = [];
  if (usePrivileged) reasons.push({ code: "ACCOUNT_PRIVILEGED", rule: "policy.privileged", weight: 0 });
  const decided = input.override === null ? scoredTiers(ruleset, input) : overridden(table, input.override);
  let visible = decided.visible;
  let silent = decided.silent;
  const tier = decided.tier;
  let choice = { channels: [] as readonly string[], excluded: [] as readonly Exclusion[] };
  let liftable = false;
  if (visible !== "deny" && !silent) {
    choice = selectChannels(ruleset, tier, input.channel);
    reasons.push(...exclusionReasons(choice.excluded));
  }
  if (visible !== "deny") {
    // The client-visible tier decides what the client sees when no channel is left;
    // the tier told to the origin having none is a silent deny (nothing to forward).
    const own = decided.visibleTier === tier && !silent ? choice : selectChannels(ruleset, decided.visibleTier, input.channel);
    liftable = own.channels.length > 0;
    if (!liftable) {
      visible = stricter(visible, decided.visibleTier.no_channel);
      reasons.push({ code: "NO_CHANNEL_AVAILABLE", rule: `tier.${decided.visibleTier.name}`, weight: 0 });
    } else if (!silent && choice.channels.length === 0) {
      silent = true;
      reasons.push({ code: "NO_CHANNEL_AVAILABLE", rule: `tier.${tier.name}`, weight: 0 });
    }
  }
  for (const e of input.errors) visible = stricter(visible, failVerdict(e.failMode));
  if (input.errors.some((e) => e.failMode !== "allow")) {
    reasons.push({ code: "FAIL_MODE_APPLIED", rule: "policy.fail-mode", weight: 0 });
  }
  silent = silent && visible !== "deny";
  const verdict: Verdict = silent ? "deny" : visible;
  const channels = verdict === "deny" ? [] : choice.channels;
  return {
    tier: tier.name,
    verdict,
    channel: channels[0] ?? "none",
    channels,
    captcha: decided.captcha || visible === "challenge",
    silent,
    liftable,
    reasons,
    excluded: choice.excluded,
  };
}

interface Tiers {
  /** The tier told to the origin (its channels are offered). */
  readonly tier: TierSpec;
  /** The tier the client-visible verdict comes from (its channels decide whether a CAPTCHA lifts). */
  readonly visibleTier: TierSpec;
  readonly visible: Verdict;
  readonly captcha: boolean;
  readonly silent: boolean;
}

/** An override decides outright, on the account's table (as before the split). */
function overridden(table: readonly TierSpec[], override: CompiledOverride): Tiers {
  const tier = overrideTier(table, override);
  return { tier, visibleTier: tier, visible: override.verdict, captcha: tier.captcha, silent: false };
}

function scoredTiers(ruleset: CompiledCore, input: PolicyInput): Tiers {
  const parts = input.parts ?? { request: input.score, inflatable: 0, account: 0, mixed: 0 };
  const table = tierTable(ruleset, input.privileged);
  // What the client sees: request-side facts on the ordinary table, inflatable ones capped at a CAPTCHA.
  const requestTier = tierFor(ruleset.tiers, parts.request);
  const floodTier = tierFor(ruleset.tiers, parts.request + parts.inflatable);
  const visible = stricter(requestTier.verdict, capAtChallenge(floodTier.verdict));
  const visibleTier = visible === "deny" ? requestTier : withoutDeny(ruleset.tiers, floodTier);
  const captcha = requestTier.captcha || floodTier.captcha;
  if (visible === "deny") return { tier: requestTier, visibleTier, visible, captcha, silent: false };
  // What the origin is told: account-side facts (and the privileged table) raise the tier,
  // and deny silently only on request-side and account-side facts, never inflatable ones.
  const accountTier = tierFor(table, parts.request + parts.account);
  if (accountTier.verdict === "deny") return { tier: accountTier, visibleTier, visible, captcha, silent: true };
  const told = withoutDeny(table, tierFor(table, Math.max(input.score, parts.request + parts.inflatable)));
  return { tier: told, visibleTier, visible, captcha, silent: false };
}

function failVerdict(mode: FailMode): Verdict {
  return mode;
}
