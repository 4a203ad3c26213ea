/**
 * The compiled forms of the rule file's parts: what signals, policy, experiments and the
 * rule evaluation read of a compiled rule set. The rule set itself (`CompiledRuleset`,
 * src/scoring/ruleset/compile.ts) adds what policy and experiments compile (ladders,
 * arms) and sits above them; these types sit below, with the schema they come from.
 */
import type { FactReads } from "./fact-classes.ts";
import type { ReasonCode } from "../../shared/decision.ts";
import type { CaptchaSettings } from "./captcha-settings.ts";
import type { Condition, ContextSchema, Facts } from "./context-schema.ts";
import type { KeyKind, RulesetSpec, TierSpec } from "./schema.ts";

/** A rule ready to run. */
export interface CompiledRule {
  readonly id: string;
  readonly reason: ReasonCode;
  readonly weight: number;
  readonly mode: "live" | "shadow";
  readonly test: Condition;
  /** The kinds of facts the condition reads: policy caps what each kind may do (fact-classes.ts). */
  readonly reads: FactReads;
}

/** An override ready to run. */
export interface CompiledOverride {
  readonly id: string;
  readonly verdict: "allow" | "deny";
  readonly reason: ReasonCode;
  /** Tier name to report, if the rule file names one. */
  readonly tier: string | null;
  readonly test: Condition;
}

/** A per-country budget with its window in ms. */
export interface CompiledBudget {
  readonly windowMs: number;
  readonly defaultLimit: number;
  readonly perCountry: ReadonlyMap<string, number>;
}

/** A channel and its constraints. */
export interface CompiledChannel {
  readonly name: string;
  readonly countries: ReadonlySet<string> | null;
  readonly budget: CompiledBudget | null;
  readonly test: Condition | null;
}

/** The stricter tier table and the accounts it applies to. */
export interface CompiledPrivileged {
  readonly accounts: ReadonlySet<string>;
  /** Sorted by `min_score` descending. */
  readonly tiers: readonly TierSpec[];
}

/** A named window with its duration in ms. */
export interface CompiledWindow {
  readonly name: string;
  readonly key: KeyKind;
  readonly windowMs: number;
}

/** A named distinct count. */
export interface CompiledDistinct extends CompiledWindow {
  readonly member: KeyKind;
}

/**
 * A compiled rule set without the parts policy and experiments compile (ladders, arms):
 * what the layers below the ruleset compile read. `CompiledRuleset` extends it.
 */
export interface CompiledCore {
  readonly spec: RulesetSpec;
  /** Content hash of the spec; recorded in every decision. */
  readonly version: string;
  readonly schema: ContextSchema;
  /** Facts → the values this rule set's conditions read. */
  readonly values: (facts: Facts) => Record<string, unknown>;
  readonly rules: readonly CompiledRule[];
  readonly overrides: readonly CompiledOverride[];
  readonly channels: ReadonlyMap<string, CompiledChannel>;
  /** Sorted by `min_score` descending, so the first match is the tier. */
  readonly tiers: readonly TierSpec[];
  readonly privileged: CompiledPrivileged | null;
  readonly windows: readonly CompiledWindow[];
  readonly distinct: readonly CompiledDistinct[];
  readonly storeTimeoutMs: number;
  readonly originTimeoutMs: number;
  readonly captcha: CaptchaSettings;
}
