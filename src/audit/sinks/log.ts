/**
 * Structured log sink: one JSON line per event on the Workers log, where Workers Logs
 * and Logpush collect it. It is the record of last resort: written synchronously for
 * every event, whatever happens to the remote sinks.
 *
 * A reset's record is the exception (src/reset/record.ts): its decision event's line is
 * the decision log line (`riskgate.decision`, the input of `riskgate rules replay`),
 * written by the record stage with the event's id and sequence number, and that line
 * also carries the request's `forward` event (id, sequence number, payload) when the
 * forward was stamped with the decision. So this sink writes no line for a decision
 * event, nor for a `forward` event delivered in the same batch as its decision: an
 * allowed reset is one log line, and every sequence number is still in the log.
 * A `forward` the queue's consumer emits later comes alone and gets its own line.
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
      // The decisions of this batch, whose lines the record stage wrote (a request's batch has one).
      let decided: string | null = null;
      let more: Set<string> | null = null;
      for (const event of events) {
        const id = event.decision_id;
        if (event.type === "decision") {
          if (decided === null) decided = id;
          else if (id !== null) {
            more ??= new Set();
            more.add(id);
          }
          continue;
        }
        if (event.type === "forward" && id !== null && (id === decided || more?.has(id) === true)) continue;
        const line: AuditLogLine = { type: `riskgate.${event.type}`, event };
        write(JSON.stringify(line));
      }
    },
  };
}
