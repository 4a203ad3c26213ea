/**
 * The audit emitter: stamps each event with an id, a per-source sequence number and
 * the rule-set version, then hands it to every sink. `emit` is meant to run after the
 * response, inside `waitUntil`; it never throws, since a broken sink must not turn a
 * finished request into an error. A sink failure is reported through `onSinkError`.
 */
import { AUDIT_FORMAT_VERSION, type AuditEvent, type AuditInput } from "./events.ts";

/** A destination for stamped events. */
export interface AuditSink {
  readonly name: string;
  write(events: readonly AuditEvent[]): Promise<void> | void;
}

/** The audit API other stages call (`gateway.audit.emit(...)`). */
export interface Auditor {
  /** This isolate's source id: with `seq` it lets a receiver find lost events. */
  readonly source: string;
  /** Stamp and deliver events; resolves when every sink has finished (or failed). */
  emit(...inputs: readonly AuditInput[]): Promise<void>;
  /** Number events now (ids, sequence), for a caller that needs them before delivery. */
  stamp(...inputs: readonly AuditInput[]): AuditEvent[];
  /** Deliver stamped events (with any start-up events not yet sent) to every sink. */
  deliver(events: readonly AuditEvent[]): Promise<void>;
}

/** What an auditor needs. */
export interface AuditorOptions {
  readonly source: string;
  readonly rules: string;
  readonly sinks: readonly AuditSink[];
  readonly now: () => number;
  /** An event's id, given its stamping time in ms (the gateway: a time-ordered UUIDv7, src/shared/event-id.ts). */
  readonly newId: (now: number) => string;
  /** Events describing the isolate itself (rule set, key), sent with the first emit. */
  readonly startup?: readonly AuditInput[];
  readonly onSinkError?: (sink: string, err: unknown) => void;
}

/** Stamp one input as event number `seq` of `source`; `ts` formats an epoch ms (default: ISO 8601). */
export function stamp(
  input: AuditInput,
  envelope: { source: string; seq: number; id: string; rules: string; now: number },
  ts: (ms: number) => string = isoTime,
): AuditEvent {
  return {
    v: AUDIT_FORMAT_VERSION,
    id: envelope.id,
    ts: ts(input.at ?? envelope.now),
    source: envelope.source,
    seq: envelope.seq,
    request_id: input.request_id,
    decision_id: input.decision_id,
    rules: envelope.rules,
    type: input.type,
    data: input.data,
  } as AuditEvent;
}

const isoTime = (ms: number) => new Date(ms).toISOString();

/**
 * ISO 8601 times, the last one remembered: a request's events share one instant (its
 * `ctx.now`), so they format it once.
 */
function lastTimeFormatter(): (ms: number) => string {
  let lastMs = Number.NaN;
  let last = "";
  return (ms) => {
    if (ms !== lastMs) {
      last = isoTime(ms);
      lastMs = ms;
    }
    return last;
  };
}

/** Build the per-isolate auditor. */
export function createAuditor(options: AuditorOptions): Auditor {
  const { source, rules, sinks, now, newId } = options;
  const onSinkError =
    options.onSinkError ??
    ((sink: string, err: unknown) =>
      console.error(JSON.stringify({ type: "riskgate.audit_sink_error", sink, message: String(err) })));
  let seq = 0;
  const ts = lastTimeFormatter();
  const next = (input: AuditInput) => {
    const at = now();
    return stamp(input, { source, seq: ++seq, id: newId(at), rules, now: at }, ts);
  };
  // Startup events take the first sequence numbers, so a receiver sees an isolate begin at 1.
  let pending: AuditEvent[] = (options.startup ?? []).map(next);

  async function deliver(stamped: readonly AuditEvent[]): Promise<void> {
    let events = stamped;
    if (pending.length > 0) {
      events = [...pending, ...stamped];
      pending = [];
    }
    if (events.length === 0) return;
    // A synchronous sink (the log) is done when write returns: only the sinks that return
    // a promise are awaited, without a closure and a promise per sink per delivery.
    const waits: Promise<void>[] = [];
    for (const sink of sinks) {
      try {
        const written = sink.write(events);
        if (written !== undefined) waits.push(Promise.resolve(written).catch((err: unknown) => onSinkError(sink.name, err)));
      } catch (err) {
        onSinkError(sink.name, err);
      }
    }
    if (waits.length > 0) await Promise.all(waits);
  }

  return {
    source,
    stamp: (...inputs) => inputs.map(next),
    deliver,
    emit: (...inputs) => deliver(inputs.map(next)),
  };
}
