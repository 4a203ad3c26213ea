// A gateway whose audit events are also captured in memory, for assertions.
import { createAuditor } from "../../../src/audit/auditor.ts";
import type { AuditEvent } from "../../../src/audit/events.ts";
import type { Gateway } from "../../../src/gateway/gateway.ts";

/** Replace the gateway's auditor with one that records what it emits (and nothing else). */
export function capturing(gateway: Gateway, events: AuditEvent[]): Gateway {
  return {
    ...gateway,
    audit: createAuditor({
      source: "test-isolate",
      rules: gateway.ruleset.version,
      now: gateway.now,
      newId: gateway.newId,
      sinks: [{ name: "capture", write: (batch) => void events.push(...batch) }],
    }),
  };
}
