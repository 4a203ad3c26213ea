/**
 * Wire format of remote sinks: OCSF (default, what SIEMs ingest) or riskgate's native
 * events. Both carry the event id, source and sequence number.
 */
import type { AuditEvent } from "../events.ts";
import { type OcsfEvent, toOcsf } from "../ocsf.ts";

/** `ocsf` or `riskgate`. */
export type AuditFormat = "ocsf" | "riskgate";

/** One event in the sink's format. */
export function formatEvent(event: AuditEvent, format: AuditFormat): AuditEvent | OcsfEvent {
  return format === "ocsf" ? toOcsf(event) : event;
}
