/**
 * Facts → outcome for one rule set: overrides, scoring rules, then policy. Pure, so the
 * pipeline runs it for the live rule set and the shadow candidate on the same facts,
 * and the CLI (`rules test`, `explain`, `replay`) runs exactly the code the Worker runs.
 */
import type { Dependency, DependencyError, FailMode, Reason, Verdict } from "../shared/decision.ts";
import { type Assignment, enrol, type ExperimentInput } from "./experiments/assign.ts";
import { applyPolicy, type PolicyOutcome, type ScoreParts } from "./policy/index.ts";
import type { Exclusion } from "./policy/channels.ts";
import type { CompiledRuleset } from "./ruleset/compile.ts";
import type { Facts } from "./rules/context-schema.ts";
import { evaluateOverrides, evaluateRules } from "./rules/evaluate.ts";

/** A dependency that failed before scoring (the rule set's fail mode decides what follows). */
export interface Failure {
  readonly dependency: Dependency;
  readonly code: string;
  /** The store failed and this isolate's local counters stood in (see `DependencyError`). */
  readonly fallback?: "local-counters";
}

/** Everything a rule set decides on. */
export interface OutcomeInput {
  /** Signal facts; `facts.budget` holds channel budget counts. */
  readonly facts: Facts;
  /** HMAC'd account key, for the privileged list. */
  readonly accountKey: string | null;
  readonly failures: readonly Failure[];
  /** Experiment draws and state; absent (CLI, shadow candidate) means nobody is enrolled. */
  readonly experiments?: ExperimentInput;
  /**
   * An operator blocked the account (live lists, docs/operations.md "Block an account"):
   * a silent deny (ACCOUNT_BLOCKED), so the client sees what it would for any account.
   */
  readonly accountBlocked?: boolean;
}

/** One rule set's conclusion. */
export interface Outcome {
  readonly verdict: Verdict;
  readonly tier: string;
  readonly score: number;
  readonly channel: string;
  readonly channels: readonly string[];
  readonly captcha: boolean;
  /** A `deny` resting on account-side facts: the client sees what request-side facts alone give (policy/index.ts). */
  readonly silent: boolean;
  /** Whether a solved CAPTCHA lets the request past (the client-visible tier has a channel). */
  readonly liftable: boolean;
  readonly reasons: readonly Reason[];
  /** Matches of `mode: shadow` rules: recorded, never scored. */
  readonly shadowReasons: readonly Reason[];
  readonly errors: readonly DependencyError[];
  /** Id of the override that decided, if any (scoring rules were then not run). */
  readonly override: string | null;
  readonly privileged: boolean;
  readonly excluded: readonly Exclusion[];
  /** The experiment arm, when enrolled; its channels replace the tier's. */
  readonly experiment: Assignment | null;
}

/** The fail mode a rule set names for a dependency; unnamed ones fail to `challenge`. */
export function failModeFor(ruleset: CompiledRuleset, dependency: Dependency): FailMode {
  const modes: Partial<Record<string, FailMode>> = ruleset.spec.fail_modes;
  return modes[dependency] ?? "challenge";
}

/** Privileged by the rule file's list, or tagged by the origin (`facts.account.privileged`). */
export function isPrivileged(ruleset: CompiledRuleset, input: OutcomeInput): boolean {
  const tagged = input.facts.account?.privileged === true;
  const listed = input.accountKey !== null && ruleset.privileged?.accounts.has(input.accountKey) === true;
  return tagged || listed;
}

/** The CEL values a rule set's conditions see for `input` (privileged resolved). */
export function celValuesFor(ruleset: CompiledRuleset, input: OutcomeInput): Record<string, unknown> {
  const privileged = isPrivileged(ruleset, input);
  return ruleset.values({ ...input.facts, account: { ...input.facts.account, privileged } });
}

/** Decide with one rule set. */
export function outcomeFor(ruleset: CompiledRuleset, input: OutcomeInput): Outcome {
  const privileged = isPrivileged(ruleset, input);
  const facts = input.facts;
  const values = celValuesFor(ruleset, input);
  const overrides = evaluateOverrides(ruleset, values);
  const override = overrides.override;
  const scored = override === null ? evaluateRules(ruleset, values) : null;
  const errors: DependencyError[] = input.failures.map((f) => ({ ...f, failMode: failModeFor(ruleset, f.dependency) }));
  for (const id of [...overrides.failedRules, ...(scored?.failedRules ?? [])]) {
    // A rule that cannot run is a defect in the rule set; its fail mode is named in the file.
    errors.push({ dependency: "rules", code: `RULE_FAILED:${id}`, failMode: ruleset.spec.fail_modes.rules });
  }
  const score = scored?.score ?? 0;
  const parts = scoreParts(ruleset, scored?.reasons ?? []);
  const channelInput = { country: typeof facts.geo?.country === "string" ? facts.geo.country : "", budgets: facts.budget ?? {}, values };
  const policy = blockedAccount(applyPolicy(ruleset, { score, parts, override, privileged, errors, channel: channelInput }), input);
  const experiment = input.experiments === undefined || input.accountBlocked === true
    ? null
    : enrol(ruleset, {
      tier: policy.tier,
      verdict: policy.verdict,
      channels: policy.channels,
      override: override !== null,
      privileged,
      errors,
      channel: channelInput,
      values,
    }, input.experiments).assignment;
  const decisive: Reason[] = override === null ? [...(scored?.reasons ?? [])] : [{ code: override.reason, rule: override.id, weight: 0 }];
  return {
    verdict: policy.verdict,
    tier: policy.tier,
    score,
    channel: experiment?.channels[0] ?? policy.channel,
    channels: experiment?.channels ?? policy.channels,
    captcha: policy.captcha,
    silent: policy.silent,
    liftable: policy.liftable,
    reasons: [...decisive, ...policy.reasons],
    shadowReasons: scored?.shadowReasons ?? [],
    errors,
    override: override?.id ?? null,
    privileged,
    excluded: policy.excluded,
    experiment,
  };
}

/**
 * An operator's account block turns the outcome into a silent deny: nothing forwarded, and
 * the client shown exactly what request-side facts call for (a CAPTCHA they ask for is
 * still asked; solving it gets the uniform 202), as for an account-side deny. A deny on
 * request-side facts stays as it was.
 */
function blockedAccount(policy: PolicyOutcome, input: OutcomeInput): PolicyOutcome {
  if (input.accountBlocked !== true) return policy;
  const reasons: Reason[] = [...policy.reasons, { code: "ACCOUNT_BLOCKED", rule: "live.account-block", weight: 0 }];
  const silent = policy.verdict !== "deny" || policy.silent;
  return { ...policy, verdict: "deny", silent, channel: "none", channels: [], reasons };
}

/** The live score split by the kind of facts each matching rule reads. */
export function scoreParts(ruleset: CompiledRuleset, reasons: readonly Reason[]): ScoreParts {
  const parts = { request: 0, inflatable: 0, account: 0, mixed: 0 };
  for (const r of reasons) {
    const reads = ruleset.rules.find((rule) => rule.id === r.rule)?.reads;
    if (reads === undefined) continue;
    const part = reads.account ? (reads.inflatable ? "mixed" : "account") : reads.inflatable ? "inflatable" : "request";
    parts[part] += r.weight;
  }
  return parts;
}
