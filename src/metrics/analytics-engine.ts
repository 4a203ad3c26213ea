/**
 * Workers Analytics Engine: one data point per audit event, written from the isolate
 * inside waitUntil (`writeDataPoint` does not block and needs no await). The column
 * layout is fixed for every event type so SQL queries stay simple; docs/operations.md
 * lists it with example queries.
 */
import type { AuditSink } from "../audit/auditor.ts";
import type { AuditEvent } from "../audit/events.ts";
import { originResult } from "./from-event.ts";

/** Blob columns, in order (blob1 ... blob14). */
export const AE_BLOBS = [
  "type",
  "verdict_or_result",
  "tier_or_ladder_or_outcome",
  "reasons",
  "channel",
  "route",
  "errors",
  "store",
  "country",
  "rules",
  "decision_id",
  "event_id",
  "mode",
  "action",
] as const;

/** Double columns, in order (double1 ... double7); -1 means "not applicable". */
export const AE_DOUBLES = ["count", "score", "ms", "store_ms", "status", "cost", "step"] as const;

type Row = Partial<Record<(typeof AE_BLOBS)[number], string>> & Partial<Record<(typeof AE_DOUBLES)[number], number>>;

function row(event: AuditEvent): Row {
  switch (event.type) {
    case "decision": {
      const d = event.data;
      return {
        verdict_or_result: d.verdict,
        tier_or_ladder_or_outcome: d.tier,
        reasons: d.reasons.map((r) => r.code).join(" "),
        channel: d.channel,
        route: d.route,
        errors: d.errors.map((e) => `${e.dependency}:${e.code}`).join(" "),
        store: d.store,
        country: d.country ?? "",
        mode: d.mode,
        action: d.action,
        score: d.score,
        ms: d.ms,
        store_ms: d.store_ms ?? -1,
      };
    }
    case "forward":
      return { verdict_or_result: originResult(event.data), ms: event.data.ms, status: event.data.status ?? -1 };
    case "challenge.solved":
      return { verdict_or_result: event.data.success ? "success" : "failure", errors: event.data.error ?? "" };
    case "ratelimit.step":
      return { verdict_or_result: event.data.action, tier_or_ladder_or_outcome: event.data.ladder, step: event.data.step };
    case "outcome.received":
      return {
        tier_or_ladder_or_outcome: event.data.outcome,
        channel: event.data.channel ?? "",
        cost: event.data.cost ?? -1,
      };
    default:
      return {};
  }
}

/** The data point for one event. */
export function dataPoint(event: AuditEvent): AnalyticsEngineDataPoint {
  const r: Row = { ...row(event), type: event.type, rules: event.rules, decision_id: event.decision_id ?? "", event_id: event.id };
  return {
    // The index is the sampling key: sampling keeps whole event types together.
    indexes: [event.type],
    blobs: AE_BLOBS.map((k) => r[k] ?? ""),
    doubles: AE_DOUBLES.map((k) => (k === "count" ? 1 : (r[k] ?? -1))),
  };
}

/** Sink writing every event to an Analytics Engine dataset. */
export function analyticsEngineSink(dataset: Pick<AnalyticsEngineDataset, "writeDataPoint">): AuditSink {
  return {
    name: "analytics-engine",
    write(events) {
      for (const event of events) dataset.writeDataPoint(dataPoint(event));
    },
  };
}
