/**
 * The audit event catalogue: one typed event per state transition riskgate sees.
 * docs/audit.md is the reference (fields, OCSF mapping, delivery guarantees).
 *
 * Events carry hashed identifiers only (HMAC'd by the context stage): never a raw
 * email, password, token, cookie or IP. The payload types below are closed on purpose:
 * there is no free-form field a caller could put a secret into by accident.
 */
import type { CandidateSummary, Decision, DependencyError, Reason } from "../shared/decision.ts";
import type { Facts } from "../scoring/rules/context-schema.ts";

/** Version of the event format; bumped on a breaking change to any payload. */
export const AUDIT_FORMAT_VERSION = 1;

/** A scored reset request: what was decided and why. */
export interface DecisionData {
  readonly route: string;
  readonly method: string;
  readonly verdict: Decision["verdict"];
  readonly tier: string;
  readonly score: number;
  readonly channel: string;
  readonly mode: Decision["mode"];
  readonly reasons: readonly Reason[];
  readonly shadow_reasons: readonly Reason[];
  /** Dependencies that failed while deciding and the fail mode applied. */
  readonly errors: readonly DependencyError[];
  /** What the act stage did: `forwarded`, `silent_deny`, `challenge` (later: `rate_limited`). */
  readonly action: string;
  /** HMAC'd identifiers (22 base64url chars), never the raw values. */
  readonly account: string;
  /**
   * The account as counted (the velocity form's HMAC, `keys.account`): what an account
   * block (`account:<HMAC>`), a penalty lift and the account ladders key on. Absent in
   * events recorded before the field existed.
   */
  readonly account_counted?: string;
  readonly ip: string | null;
  readonly device: string;
  /** The experiment arm the decision was enrolled in, or null. Absent in events recorded before the field existed. */
  readonly experiment?: { readonly id: string; readonly arm: string } | null;
  readonly country: string | null;
  readonly asn: number | null;
  /** Store adapter and the latency of its one batched call (null when it was not called). */
  readonly store: string;
  readonly store_ms: number | null;
  /** Time from the request reaching the route to the response being ready. */
  readonly ms: number;
  /** The non-zero facts the rules saw (counts, booleans, UA family, country, ASN: no identifiers); a missing one is zero. */
  readonly facts: Facts;
  /** The shadow candidate's conclusion, when a candidate rule set is bundled. */
  readonly candidate: CandidateData | null;
}

/** A shadow candidate's conclusion on the same facts (the pipeline's summary, as logged). */
export type CandidateData = CandidateSummary;

/**
 * The signed forward to the origin and how it ended: one event per forwarded reset,
 * after its last attempt (retries included; src/reset/deliver.ts).
 */
export interface ForwardData {
  /** The origin's URL origin (scheme://host:port), never a path or query. */
  readonly origin: string;
  /** The origin accepted it (2xx/3xx). A 5xx or 4xx answer is not ok. */
  readonly ok: boolean;
  /** The last attempt's status, null when it got no answer. */
  readonly status: number | null;
  /** `ORIGIN_TIMEOUT` / `ORIGIN_UNAVAILABLE` (no answer), `ORIGIN_ERROR` (5xx), `ORIGIN_REJECTED` (4xx); null when ok. */
  readonly error: string | null;
  /** The last attempt's duration. */
  readonly ms: number;
  readonly respond: "uniform" | "origin";
  /** Attempts made (1 without retries). */
  readonly attempts: number;
  /** The client was told "accepted" but the reset never reached the origin: a lost reset. */
  readonly lost: boolean;
}

/** A challenge (CAPTCHA) was sent to the client. */
export interface ChallengeIssuedData {
  readonly kind: "captcha";
  /** `turnstile`, `hcaptcha`, `recaptcha`; null with CAPTCHA_PROVIDER=none. */
  readonly provider: string | null;
}

/** A challenge answer was checked with the provider. */
export interface ChallengeSolvedData {
  readonly kind: "captcha";
  readonly provider: string | null;
  readonly success: boolean;
  /** Provider error code (e.g. `timeout-or-duplicate`) or a dependency failure code. */
  readonly error: string | null;
  /** A token checked now, or a pass (signed cookie) from an earlier solve: not a new solve. */
  readonly via: "token" | "pass";
}

/** The rate-limit ladder moved a key to a step (or its CAPTCHA step was waived). */
export interface RateLimitStepData {
  readonly ladder: string;
  /** Rung: 1 the CAPTCHA step, 2 the 429 step, 3 the penalty box. */
  readonly step: number;
  /** `waived`: the CAPTCHA step bit but the ladder's `unless` held; `delay` is reserved (no ladder delays yet). */
  readonly action: "challenge" | "deny" | "delay" | "waived";
  /** The key kind the ladder counts on (`ip`, `account`, ...), never the key itself. */
  readonly key: string;
  readonly retry_after_s: number | null;
}

/**
 * Requests the screen stage refused from the isolate's block cache (src/reset/screen.ts),
 * tallied per blocked key: one event per key per tally window, not one per request, so
 * a flood from a blocked client costs the audit trail one event a second.
 */
export interface RateLimitRefusedData {
  readonly route: string;
  readonly ladder: string;
  /** `block`: the ladder's 429 step; `penalty`: its penalty box. */
  readonly step: "block" | "penalty";
  /** The key kind (`ip`, `subnet`) and its HMAC (22 base64url chars), never the address. */
  readonly key: string;
  readonly entity: string;
  /** Requests refused in the window, each answered 429. */
  readonly count: number;
  readonly first_at: string;
  readonly last_at: string;
  /** The largest Retry-After the window's responses carried. */
  readonly retry_after_s: number;
  /** The tier every refusal is counted under (the strictest), as for other 429s. */
  readonly tier: string;
}

/** Outcome kinds the origin reports through `POST /v1/outcomes`. */
export type OutcomeKind = "sent" | "verified" | "completed" | "abandoned" | "fraud_reported";

/** An outcome reported by the origin for an earlier decision. */
export interface OutcomeData {
  readonly outcome: OutcomeKind;
  readonly channel: string | null;
  /** What the channel actually cost, when the origin knows it. */
  readonly cost: number | null;
  readonly currency: string | null;
  readonly account: string | null;
  readonly experiment: { readonly id: string; readonly arm: string } | null;
  /**
   * True when the decision already had this outcome (a resend, or a second `completed`
   * report with a new event id): the dashboard counts resets once per decision. Absent in
   * events recorded before the field existed (read as false).
   */
  readonly repeat?: boolean;
  /** The origin's privileged tag when the report carried one (true sets, false clears). */
  readonly privileged?: boolean;
}

/** The isolate compiled and started using a rule set. */
export interface RulesetLoadedData {
  readonly version: string;
  readonly rules: number;
  readonly shadow_rules: number;
  readonly tiers: readonly string[];
}

/** The isolate signs decisions with this key. */
export interface KeyInUseData {
  readonly kid: string;
  readonly alg: string;
  /** Every kid published in the JWKS, current first. */
  readonly published: readonly string[];
}

/** A new signing key was seen for the first time (derived by the audit hub). */
export interface KeyRotatedData {
  readonly kid: string;
  readonly previous: string;
}

/** An operator logged in to the admin dashboard with the bearer secret (or failed to). */
export interface AdminLoginData {
  readonly success: boolean;
}

/**
 * An operator added or removed a live reputation entry (docs/architecture.md, "Live
 * lists"), from the dashboard, the CLI or the admin API.
 */
export interface ListChangedData {
  readonly action: "add" | "remove";
  /** `ip`, `cidr`, `asn`, `country` or `account`. */
  readonly kind: string;
  /**
   * The range, AS number or country as written (`203.0.113.0/24`, `AS64500`, `KP`); for a
   * single address its HMAC (22 base64url chars), never the address; for an account
   * `account:` and the HMAC of its canonical identifier, never the email.
   */
  readonly target: string;
  readonly list: string;
  /** `add`: the target joins the list; `remove`: it is taken off it (bundled entries too). */
  readonly effect: "add" | "remove";
  readonly reason: string;
  /** `dashboard`, `cli`, `api`. */
  readonly source: string;
  /** ISO time the entry lapses, null for none. */
  readonly expires_at: string | null;
}

/**
 * An operator lifted the penalty boxes on a key (docs/operations.md, "Lift a penalty
 * box"), from the dashboard, the CLI or the admin API.
 */
export interface PenaltyLiftedData {
  /** `ip`, `subnet`, `net56`, `net48`, `account` or `device`. */
  readonly kind: string;
  /** The key's HMAC (as the decision log names it); a subnet as written; never an address or email. */
  readonly target: string;
  /** The ladders whose boxes and refusing windows were cleared. */
  readonly ladders: readonly string[];
  /** How many of those ladders had the key boxed at the time. */
  readonly boxed: number;
  readonly reason: string;
  /** `dashboard`, `cli`, `api`. */
  readonly source: string;
}

/** Payload type per event type. */
export interface AuditPayloads {
  readonly decision: DecisionData;
  readonly forward: ForwardData;
  readonly "challenge.issued": ChallengeIssuedData;
  readonly "challenge.solved": ChallengeSolvedData;
  readonly "ratelimit.step": RateLimitStepData;
  readonly "ratelimit.refused": RateLimitRefusedData;
  readonly "outcome.received": OutcomeData;
  readonly "ruleset.loaded": RulesetLoadedData;
  readonly "key.in_use": KeyInUseData;
  readonly "key.rotated": KeyRotatedData;
  readonly "admin.login": AdminLoginData;
  readonly "list.changed": ListChangedData;
  readonly "penalty.lifted": PenaltyLiftedData;
}

/** Every event type, stable strings (SIEM queries depend on them). */
export type AuditEventType = keyof AuditPayloads;

/** All event types, for docs and validation. */
export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = [
  "decision",
  "forward",
  "challenge.issued",
  "challenge.solved",
  "ratelimit.step",
  "ratelimit.refused",
  "outcome.received",
  "ruleset.loaded",
  "key.in_use",
  "key.rotated",
  "admin.login",
  "list.changed",
  "penalty.lifted",
];

/** What a caller passes to `emit`: the type, the correlation ids and the payload. */
export type AuditInput = {
  readonly [T in AuditEventType]: {
    readonly type: T;
    /** Correlates with platform logs (`cf-ray` on Cloudflare) or a fresh id. */
    readonly request_id: string | null;
    readonly decision_id: string | null;
    /** When the transition happened (ms since epoch); defaults to the emit time. */
    readonly at?: number;
    readonly data: AuditPayloads[T];
  };
}[AuditEventType];

/** The envelope every emitted event has. */
export interface AuditEnvelope {
  readonly v: typeof AUDIT_FORMAT_VERSION;
  /** Unique event id: the key receivers de-duplicate on (delivery is at least once). */
  readonly id: string;
  readonly ts: string;
  /** Who emitted it: an isolate id, or `hub` for events the audit hub derives. */
  readonly source: string;
  /** Per-source sequence number from 1 with no holes: a missing number is a lost event. */
  readonly seq: number;
  readonly request_id: string | null;
  readonly decision_id: string | null;
  /** Version of the rule set in force at the source. */
  readonly rules: string;
}

/** An emitted event: envelope plus a typed payload. */
export type AuditEvent = {
  readonly [T in AuditEventType]: AuditEnvelope & { readonly type: T; readonly data: AuditPayloads[T] };
}[AuditEventType];

/** Narrow an event to one type. */
export function isEventOfType<T extends AuditEventType>(
  event: AuditEvent,
  type: T,
): event is Extract<AuditEvent, { type: T }> {
  return event.type === type;
}
