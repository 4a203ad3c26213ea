/**
 * Structured log sink: one JSON line per event on the Workers log, where Workers Logs
 * and Logpush collect it. It is the record of last resort: written synchronously for
 * every event, whatever happens to the remote sinks.
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
        const line: AuditLogLine = { type: `riskgate.${event.type}`, event };
        write(JSON.stringify(line));
      }
    },
  };
}
