/**
 * The structured decision log: one JSON line per scored request, written after the
 * response (via waitUntil). It carries hashed identifiers only: never the raw
 * identifier, the body, a token or a full IP.
 *
 * Each line also carries the facts the rules saw (hash-free by construction: counts,
 * booleans, UA family, country, ASN; only those that are not zero, which is how the
 * rules read a missing fact) and, when a shadow candidate is bundled, the
 * candidate's outcome. `riskgate rules replay` re-decides past traffic from these lines.
 *
 * The line is also the log record of the decision's audit event (src/reset/record.ts):
 * `event` carries that event's id, source and sequence number, so log-based pipelines
 * can trace it and detect gaps like any other audit event. When the request's forward
 * finished before the record stage (an allowed reset), `forward` carries the `forward`
 * event's id, sequence number and payload too, and the log sink writes no line of its
 * own for it: one line per reset (docs/audit.md, "Structured log").
 */
import type { CaptchaState } from "../captcha/gate.ts";
import type { CandidateSummary, Decision, Reason } from "../shared/decision.ts";
import type { Facts } from "../scoring/rules/context-schema.ts";
import type { ForwardData, OutcomeKind } from "./events.ts";

/** The fields of a decision log line. */
export interface DecisionLogLine {
  readonly type: "riskgate.decision";
  readonly ts: string;
  readonly id: string;
  readonly route: string;
  readonly verdict: Decision["verdict"];
  readonly tier: string;
  readonly score: number;
  readonly channel: string;
  /** The experiment arm the decision was enrolled in, if any. */
  readonly experiment?: Decision["experiment"] | null;
  readonly reasons: readonly Reason[];
  readonly shadow_reasons: readonly Reason[];
  readonly mode: Decision["mode"];
  readonly errors: Decision["errors"];
  readonly rules: string;
  /** The account as history knows it: the exact form's HMAC. */
  readonly account: string;
  /**
   * The account as counted: the velocity form's HMAC (src/context/account.ts), the key an
   * account block (`account:<HMAC>` in the live lists) and a penalty lift match. Absent in
   * lines written before the field existed.
   */
  readonly account_counted?: string;
  readonly ip: string | null;
  readonly action: string;
  readonly origin_status: number | null;
  readonly origin_ms: number | null;
  readonly ms: number;
  /**
   * The facts the rules decided on, the non-zero ones only (a missing fact is 0, "",
   * false or an empty list, as the rules read it); what `rules replay` re-evaluates.
   */
  readonly facts: Facts;
  /** The shadow candidate's outcome (null when no candidate is bundled). */
  readonly candidate: CandidateSummary | null;
  /** The decision's audit event (docs/audit.md). */
  readonly event?: { readonly id: string; readonly source: string; readonly seq: number };
  /**
   * The request's `forward` audit event when it was recorded with the decision (same
   * source, `ts`, `decision_id` and `rules` as the decision's): this line is its log
   * record. Absent when there was no forward, when the queue's consumer emits it later
   * (it gets a `riskgate.forward` line of its own), and in lines written before the field.
   */
  readonly forward?: LoggedForward;
  /**
   * Rate-limit ladders that were not at `allow` (or whose CAPTCHA step was waived).
   * `level` (the penalty level) is absent in `riskgate decisions export` lines: the
   * `ratelimit.step` audit event they are rebuilt from does not carry it.
   */
  readonly rate_limits?: readonly { readonly name: string; readonly step: string; readonly waived: boolean; readonly level?: number }[];
  /** The CAPTCHA step, when it ran (passed via token or pass, failed or errored with a code). */
  readonly captcha?: CaptchaState | null;
}

/**
 * An outcome as `rules replay --outcomes` reads it: the fields of the `riskgate.outcome`
 * log line (src/outcomes/index.ts) that the `outcome.received` audit event carries too.
 */
export interface OutcomeLogLine {
  readonly type: "riskgate.outcome";
  readonly ts: string;
  /** The decision id the origin reported on. */
  readonly decision: string;
  readonly event: OutcomeKind;
  readonly account: string | null;
}

/** A `forward` event as a decision log line carries it: its id, sequence number and payload. */
export interface LoggedForward {
  readonly id: string;
  readonly seq: number;
  readonly data: ForwardData;
}

/** A sink for log lines; the default writes to the Workers log (console), one JSON per line. */
export type LogSink = (line: DecisionLogLine) => void;

/** Writes to the Workers log, where Workers Logs / Logpush collect it. */
export const consoleSink: LogSink = (line) => console.log(JSON.stringify(line));
