/**
 * The one Decision type. Everything downstream of policy (forwarding, the client
 * response, the audit log, the origin's signed claims) reads this and nothing else.
 */

/** What riskgate concluded for the request. */
export type Verdict = "allow" | "challenge" | "deny";

/** `shadow` decisions are computed and recorded but never change the response. */
export type DecisionMode = "live" | "shadow";

/**
 * The built-in reason codes. Each is documented in docs/reason-codes.md. Rule files may
 * name these and the codes they declare themselves under `reasons:` (rules/reasons.yaml);
 * any other code fails the build instead of silently scoring.
 */
export const REASON_CODES = [
  // device
  "UA_MISSING",
  "UA_AUTOMATION",
  "UA_HEADLESS",
  "DEVICE_NEW_FOR_ACCOUNT",
  "DEVICE_KNOWN",
  "CLIENT_HINTS_MISMATCH",
  "HEADER_ANOMALY",
  "DEVICE_COOKIE_INVALID",
  // geo
  "GEO_NEW_COUNTRY",
  "GEO_NEW_ASN",
  "GEO_IMPOSSIBLE_TRAVEL",
  "GEO_COUNTRY_DENIED",
  // velocity
  "VELOCITY_ACCOUNT",
  "VELOCITY_IP",
  "VELOCITY_SUBNET",
  "VELOCITY_DEVICE",
  "VELOCITY_ASN",
  "VELOCITY_GLOBAL",
  "RESETS_NOT_COMPLETED",
  "DISTINCT_ACCOUNTS_PER_IP",
  "DISTINCT_ACCOUNTS_PER_SUBNET",
  "DISTINCT_ACCOUNTS_PER_DEVICE",
  "DISTINCT_IPS_PER_ACCOUNT",
  "DISTINCT_DEVICES_PER_ACCOUNT",
  // ip reputation
  "IP_TOR_EXIT",
  "IP_HOSTING_ASN",
  "IP_VPN",
  "IP_KNOWN_BAD",
  "IP_UNPARSEABLE",
  // overrides and policy
  "OVERRIDE_ALLOWLIST",
  "OVERRIDE_DENYLIST",
  "ACCOUNT_PRIVILEGED",
  "ACCOUNT_BLOCKED",
  "ACCOUNT_NOT_ON_ROSTER",
  "RATE_LIMIT_CHALLENGE",
  "RATE_LIMIT_EXCEEDED",
  "PENALTY_BOX",
  "CAPTCHA_PASSED",
  "CAPTCHA_FAILED",
  "LIVE_LIST_BLOCK",
  // channels (weight 0: they explain the channel, not the score)
  "CHANNEL_COUNTRY_NOT_ALLOWED",
  "CHANNEL_BUDGET_EXHAUSTED",
  "CHANNEL_CONDITION_UNMET",
  "NO_CHANNEL_AVAILABLE",
  // dependency failures (the fail mode decided the outcome)
  "FAIL_MODE_APPLIED",
] as const;

/** A built-in reason code. */
export type BuiltinReasonCode = (typeof REASON_CODES)[number];

/**
 * A code a rule file declared under `reasons:` (validated at build time: UPPER_SNAKE, not
 * a built-in). Branded so code in src/ can only name built-in codes as literals.
 */
export type DeclaredReasonCode = string & { readonly declaredInRuleFiles: true };

/** A stable UPPER_SNAKE reason code: built-in, or declared by the rule files. */
export type ReasonCode = BuiltinReasonCode | DeclaredReasonCode;

/** The shape of every reason code, built-in or declared. */
export const REASON_CODE_PATTERN = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/** One contribution to the score, traceable to the rule that made it. */
export interface Reason {
  readonly code: ReasonCode;
  /** Rule id from the rule file, or a built-in id such as `policy.rate-limit`. */
  readonly rule: string;
  readonly weight: number;
}

/** Named dependencies whose failure the decision can survive under a fail mode. */
export type Dependency = "store" | "origin" | "captcha" | "geo" | "rules";

/** What the gateway does when a dependency fails. Never an accidental allow. */
export type FailMode = "allow" | "challenge" | "deny";

/** A dependency that failed while deciding, and the fail mode that was applied. */
export interface DependencyError {
  readonly dependency: Dependency;
  /** Stable error code, e.g. `STORE_TIMEOUT`. */
  readonly code: string;
  readonly failMode: FailMode;
  /**
   * Set when the store failed and this isolate's local counters stood in for it
   * (src/store/fallback.ts): ladders, penalty boxes and the CAPTCHA token record still
   * applied, counted in this isolate only.
   */
  readonly fallback?: "local-counters";
}

/** The verification channel the origin should use, or `none` when nothing is sent. */
export type Channel = string;

/** The experiment arm a decision was assigned to (docs/experiments.md). */
export interface ExperimentArm {
  /** Experiment id from the rule file. */
  readonly id: string;
  /** Arm id, or `holdout`. */
  readonly arm: string;
}

/** The gateway's decision for one reset request. */
export interface Decision {
  /** Random, unique; becomes the JWS `jti` the origin can de-duplicate on. */
  readonly id: string;
  readonly verdict: Verdict;
  /** A tier name from the rule file (e.g. `low`, `medium`, `high`, `critical`). */
  readonly tier: string;
  readonly score: number;
  readonly channel: Channel;
  /** Every usable channel of the tier in order of preference: `channel` first, then fallbacks. */
  readonly channels: readonly Channel[];
  readonly reasons: readonly Reason[];
  readonly mode: DecisionMode;
  readonly errors: readonly DependencyError[];
  /** Version (content hash) of the rule set that decided. */
  readonly rulesetVersion: string;
  /** Seconds until a retry can succeed, when a rate-limit ladder refused the request (a 429). */
  readonly retryAfter?: number;
  /** Set when the decision is enrolled in an experiment; `channels` are then the arm's. */
  readonly experiment?: ExperimentArm;
}

const REASON_SET: ReadonlySet<string> = new Set(REASON_CODES);

/** True when `code` is one of the built-in reason codes. */
export function isBuiltinReasonCode(code: string): code is BuiltinReasonCode {
  return REASON_SET.has(code);
}

/** The candidate's conclusion, as the decision log and audit event record it (src/reset/decide.ts). */
export interface CandidateSummary {
  readonly rules: string;
  readonly verdict: Decision["verdict"];
  readonly tier: string;
  readonly score: number;
  readonly channel: string;
  readonly reasons: readonly Reason[];
  /** True when the candidate's verdict or tier differs from the live decision. */
  readonly changed: boolean;
}
