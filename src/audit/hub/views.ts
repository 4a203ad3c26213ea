/**
 * What the admin API returns about recorded events: a decision with its explanation
 * and the ids of every event that belongs to it, so the dashboard can link each row to
 * its audit trail.
 */
import type { DecisionRow, EventView } from "../api-types.ts";
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
