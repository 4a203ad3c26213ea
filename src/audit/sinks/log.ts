/**
 * Structured log sink: one JSON line per event on the Workers log, where Workers Logs
 * and Logpush collect it. It is the record of last resort: written synchronously for
 * every event, whatever happens to the remote sinks.
 *
 * Decision events are the exception: their log line is the decision log line
 * (`riskgate.decision`, the input of `riskgate rules replay`), written by the record
 * stage with the event's id and sequence number, so a decision is never logged twice.
 */
import type { AuditSink } from "../auditor.ts";
import type { AuditEvent } from "../events.ts";

/** The log line: the event under a fixed `type` prefix so log queries can filter. */
export interface AuditLogLine {
  readonly type: `riskgate.${AuditEvent["type"]}`;
  readonly event: AuditEvent;
}

/** Build the log sink; `write` defaults to console.log (Workers Logs). */
export function logSink(write: (line: string) => void = (line) => console.log(line)): AuditSink {
  return {
    name: "log",
    write(events) {
      for (const event of events) {
        if (event.type === "decision") continue;
        const line: AuditLogLine = { type: `riskgate.${event.type}`, event };
        write(JSON.stringify(line));
      }
    },
  };
}
