/**
 * Verification channels: each tier lists channels in order of preference; a channel is
 * usable when its constraints hold (country allow list, per-country budget, optional
 * CEL condition). The first usable one is the channel, the rest are fallbacks the
 * origin may try in order (e.g. the account has no phone for SMS).
 *
 * Budgets are counted in the request's one store batch: a window hit keyed
 * `budget:<channel>:<country>` for every request that could be offered the channel
 * (its country is allowed). That counts eligible requests, an upper bound on sends, so
 * the budget errs towards switching SMS off early: the safe side when the threat is SMS
 * pumping running up the bill.
 */
import type { Reason, ReasonCode } from "../../shared/decision.ts";
import type { CompiledChannel, CompiledCore } from "../rules/compiled.ts";
import type { TierSpec } from "../rules/schema.ts";
import type { WindowHit } from "../../store/port.ts";

/** The budget windows one request touches, in `hits` order. */
export interface BudgetPlan {
  readonly hits: readonly WindowHit[];
  readonly channels: readonly string[];
}

/** A channel left out, and why. */
export interface Exclusion {
  readonly channel: string;
  readonly code: ReasonCode;
}

/** What channel selection sees about the request. */
export interface ChannelInput {
  /** ISO country, or "" when unknown. */
  readonly country: string;
  /** Budget counts by channel name (this request included); a missing count is unknown. */
  readonly budgets: Readonly<Record<string, unknown>>;
  /** CEL values for channel conditions. */
  readonly values: Record<string, unknown>;
}

/** Usable channels in order, and the ones constraints removed. */
export interface ChannelChoice {
  readonly channels: readonly string[];
  readonly excluded: readonly Exclusion[];
}

function countryAllowed(channel: CompiledChannel, country: string): boolean {
  return channel.countries === null ? true : country !== "" && channel.countries.has(country);
}

/** Budget hits for a request from `country` (none when the country is unknown or not allowed). */
export function planBudgets(ruleset: CompiledCore, country: string): BudgetPlan {
  const hits: WindowHit[] = [];
  const channels: string[] = [];
  if (country === "") return { hits, channels };
  for (const channel of ruleset.channels.values()) {
    if (channel.budget === null || !countryAllowed(channel, country)) continue;
    hits.push({ key: `budget:${channel.name}:${country}`, windowMs: channel.budget.windowMs });
    channels.push(channel.name);
  }
  return { hits, channels };
}

/** Name the budget counts the store returned (`counts` aligned with `plan.hits`). */
export function budgetCounts(plan: BudgetPlan, counts: readonly number[] | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (counts === null) return out;
  plan.channels.forEach((name, i) => {
    const n = counts[i];
    if (n !== undefined) out[name] = n;
  });
  return out;
}

function exclusion(channel: CompiledChannel, input: ChannelInput): ReasonCode | null {
  if (!countryAllowed(channel, input.country)) return "CHANNEL_COUNTRY_NOT_ALLOWED";
  if (channel.budget !== null) {
    const used = input.budgets[channel.name];
    const limit = channel.budget.perCountry.get(input.country) ?? channel.budget.defaultLimit;
    // An unknown count (store failed) is treated as spent: never fail open on cost.
    if (typeof used !== "number" || used > limit) return "CHANNEL_BUDGET_EXHAUSTED";
  }
  if (channel.test !== null) {
    let holds: unknown = false;
    try {
      holds = channel.test(input.values);
    } catch {
      holds = false;
    }
    if (holds !== true) return "CHANNEL_CONDITION_UNMET";
  }
  return null;
}

/** The tier's channels that are usable for this request, in the tier's order. */
export function selectChannels(ruleset: CompiledCore, tier: TierSpec, input: ChannelInput): ChannelChoice {
  const channels: string[] = [];
  const excluded: Exclusion[] = [];
  for (const name of tier.channels) {
    const channel = ruleset.channels.get(name);
    // Validation rejects undeclared channels; a missing one here means a hand-edited artefact.
    const code = channel === undefined ? "CHANNEL_CONDITION_UNMET" : exclusion(channel, input);
    if (code === null) channels.push(name);
    else excluded.push({ channel: name, code });
  }
  return { channels, excluded };
}

/** Reasons (weight 0) that explain why channels were left out. */
export function exclusionReasons(excluded: readonly Exclusion[]): Reason[] {
  return excluded.map((e) => ({ code: e.code, rule: `channel.${e.channel}`, weight: 0 }));
}
