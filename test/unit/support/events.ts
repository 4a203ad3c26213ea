// Builders for audit events in unit tests: stamped like the auditor does.
import { stamp } from "../../../src/audit/auditor.ts";
import type { AuditEvent, AuditInput, DecisionData } from "../../../src/audit/events.ts";

let seq = 0;

/** Stamp an input as the next event of source `src`. */
export function event(input: AuditInput, options: { source?: string; seq?: number; at?: number } = {}): AuditEvent {
  seq += 1;
  return stamp(input, {
    source: options.source ?? "isolate-a",
    seq: options.seq ?? seq,
    id: `evt-${seq}`,
    rules: "rules-v1",
    now: options.at ?? Date.UTC(2026, 0, 1, 12, 0, 0),
  });
}

/** A decision payload with sensible defaults. */
export function decisionData(overrides: Partial<DecisionData> = {}): DecisionData {
  return {
    route: "/password/reset",
    method: "POST",
    verdict: "allow",
    tier: "low",
    score: 0,
    channel: "email_link",
    mode: "live",
    reasons: [],
    shadow_reasons: [],
    errors: [],
    action: "forwarded",
    account: "A".repeat(22),
    ip: "B".repeat(22),
    device: "C".repeat(22),
    country: "NL",
    asn: 64500,
    store: "durable-object",
    store_ms: 3,
    ms: 7,
    facts: { velocity: { ip_10m: 1 }, device: { browser: "Safari", automation: false } },
    candidate: null,
    ...overrides,
  };
}

/** A decision event. */
export function decision(overrides: Partial<DecisionData> = {}, options: Parameters<typeof event>[1] = {}): AuditEvent {
  return event({ type: "decision", request_id: "req-1", decision_id: "dec-1", data: decisionData(overrides) }, options);
}
