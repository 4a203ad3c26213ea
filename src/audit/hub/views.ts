/**
 * What the admin API returns about recorded events: a decision with its explanation
 * and the ids of every event that belongs to it, so the dashboard can link each row to
 * its audit trail.
 */
import type { DecisionRow, EventView } from "../api-types.ts";
import type { CaptchaCode, CaptchaState } from "../../shared/captcha.ts";
import type { DecisionLogLine, OutcomeLogLine } from "../decision-log.ts";
import type { AuditEvent } from "../events.ts";
import { toOcsf } from "../ocsf.ts";

export type { DecisionRow, EventView };

/** Build the row for a decision event and the events sharing its decision id. */
export function decisionRow(event: Extract<AuditEvent, { type: "decision" }>, related: readonly AuditEvent[]): DecisionRow {
  const d = event.data;
  const forward = related.find((e): e is Extract<AuditEvent, { type: "forward" }> => e.type === "forward");
  return {
    event_id: event.id,
    decision_id: event.decision_id,
    request_id: event.request_id,
    ts: event.ts,
    source: event.source,
    seq: event.seq,
    rules: event.rules,
    route: d.route,
    verdict: d.verdict,
    tier: d.tier,
    score: d.score,
    channel: d.channel,
    action: d.action,
    mode: d.mode,
    reasons: d.reasons,
    shadow_reasons: d.shadow_reasons,
    errors: d.errors,
    // Events recorded before facts were part of them read as empty.
    facts: d.facts ?? {},
    candidate: d.candidate ?? null,
    origin: forward === undefined ? null : { status: forward.data.status, error: forward.data.error, ms: forward.data.ms },
    events: related.map((e) => ({ id: e.id, type: e.type, seq: e.seq })),
    count: 1,
  };
}

/**
 * The row for a tally of refused requests (src/reset/refusals.ts): `count` requests, each a
 * deny answered 429 from the block cache, sharing one decision id.
 */
export function refusalRow(event: Extract<AuditEvent, { type: "ratelimit.refused" }>): DecisionRow {
  const d = event.data;
  return {
    event_id: event.id,
    decision_id: event.decision_id,
    request_id: event.request_id,
    ts: event.ts,
    source: event.source,
    seq: event.seq,
    rules: event.rules,
    route: d.route,
    verdict: "deny",
    tier: d.tier,
    score: 0,
    channel: "none",
    action: `rate_limited (${d.ladder} ${d.step})`,
    mode: "live",
    reasons: [],
    shadow_reasons: [],
    errors: [],
    facts: {},
    candidate: null,
    origin: null,
    events: [{ id: event.id, type: event.type, seq: event.seq }],
    count: d.count,
    lift: `key:${d.key}:${d.entity}`,
  };
}

/** The event in both formats. */
export function eventView(event: AuditEvent): EventView {
  return { event, ocsf: toOcsf(event) };
}

/** Provider failures (the fail mode decides); any other code is a refused token. */
const CAPTCHA_DEPENDENCY_FAILURES: ReadonlySet<string> = new Set(["CAPTCHA_TIMEOUT", "CAPTCHA_UNAVAILABLE", "CAPTCHA_BAD_RESPONSE", "CAPTCHA_MISCONFIGURED"]);

/** The CAPTCHA step as the log line records it, from its `challenge.solved` event (step-events.ts, inverted). */
function captchaOf(e: Extract<AuditEvent, { type: "challenge.solved" }> | undefined): CaptchaState | null {
  if (e === undefined) return null;
  const d = e.data;
  if (d.success) return { status: "passed", via: d.via };
  const code = (d.error ?? "CAPTCHA_INVALID") as CaptchaCode;
  return CAPTCHA_DEPENDENCY_FAILURES.has(code) ? { status: "error", code } : { status: "failed", code };
}

const STEP_OF_RUNG: Readonly<Record<number, string>> = { 1: "captcha", 2: "block", 3: "penalty" };

/**
 * The decision log line (`rules replay`'s input, src/audit/decision-log.ts) rebuilt from
 * a decision event and the events sharing its decision id, plus its outcomes as
 * `riskgate.outcome` lines: what `riskgate decisions export` writes. Identifiers stay the
 * HMACs the events carry.
 */
export function decisionExport(event: Extract<AuditEvent, { type: "decision" }>, related: readonly AuditEvent[]): { line: DecisionLogLine; outcomes: OutcomeLogLine[] } {
  const d = event.data;
  const forward = related.find((e): e is Extract<AuditEvent, { type: "forward" }> => e.type === "forward");
  const solved = related.find((e): e is Extract<AuditEvent, { type: "challenge.solved" }> => e.type === "challenge.solved");
  const steps = related.filter((e): e is Extract<AuditEvent, { type: "ratelimit.step" }> => e.type === "ratelimit.step");
  const received = related.filter((e): e is Extract<AuditEvent, { type: "outcome.received" }> => e.type === "outcome.received");
  const id = event.decision_id ?? event.id;
  // As the log line does (src/reset/record.ts): a forward the origin did not accept is an origin error.
  const originFailed = forward !== undefined && !forward.data.ok;
  const line: DecisionLogLine = {
    type: "riskgate.decision",
    ts: event.ts,
    id,
    route: d.route,
    verdict: d.verdict,
    tier: d.tier,
    score: d.score,
    channel: d.channel,
    // The decision's own arm; events recorded before it carried one fall back to an outcome's.
    experiment: d.experiment !== undefined ? d.experiment : (received.find((e) => e.data.experiment !== null)?.data.experiment ?? null),
    reasons: d.reasons,
    shadow_reasons: d.shadow_reasons,
    mode: d.mode,
    errors: originFailed ? [...d.errors, { dependency: "origin", code: forward.data.error ?? "ORIGIN_ERROR", failMode: "allow" }] : d.errors,
    rules: event.rules,
    account: d.account,
    ...(d.account_counted === undefined ? {} : { account_counted: d.account_counted }),
    ip: d.ip,
    action: d.action,
    origin_status: forward?.data.status ?? null,
    origin_ms: forward?.data.ms ?? null,
    ms: d.ms,
    facts: d.facts ?? {},
    candidate: d.candidate ?? null,
    rate_limits: steps.map((s) =>
      s.data.action === "waived"
        ? { name: s.data.ladder, step: "allow", waived: true }
        : { name: s.data.ladder, step: STEP_OF_RUNG[s.data.step] ?? "captcha", waived: false },
    ),
    captcha: captchaOf(solved),
    event: { id: event.id, source: event.source, seq: event.seq },
    ...(forward === undefined ? {} : { forward: { id: forward.id, seq: forward.seq, data: forward.data } }),
  };
  const outcomes = received.map((e): OutcomeLogLine => ({ type: "riskgate.outcome", ts: e.ts, decision: id, event: e.data.outcome, account: e.data.account }));
  return { line, outcomes };
}
