/**
 * The outbox: events waiting for a remote sink (webhook, queue), kept in the hub's
 * SQLite until the sink acknowledges them. A sink that is down loses nothing: its rows
 * stay, its retries back off, and it resumes from the oldest undelivered event.
 * There is deliberately no cap that drops events; the backlog is a metric with an
 * alert (docs/operations.md).
 */
import { type Backoff, backoffDelay, DEFAULT_BACKOFF } from "../backoff.ts";
import type { RemoteSink, SinkStatus } from "../api-types.ts";
import type { AuditEvent } from "../events.ts";
import { MAX_BOUND_VALUES, rowsOf } from "../../shared/sql-rows.ts";

/** Outbox rows per INSERT: three values each. */
const OUTBOX_INSERT_ROWS = Math.floor(MAX_BOUND_VALUES / 3);

export type { RemoteSink, SinkStatus };

/** SQL schema; idempotent. */
export const OUTBOX_SCHEMA = `
  CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT, enqueued INTEGER, body TEXT);
  CREATE INDEX IF NOT EXISTS outbox_sink ON outbox (sink, id);
  CREATE TABLE IF NOT EXISTS sink_state (
    sink TEXT PRIMARY KEY, attempts INTEGER, next_at INTEGER, last_error TEXT,
    last_ok_at INTEGER, delivered INTEGER, failures INTEGER
  );
`;

/** A batch taken for delivery. */
export interface OutboxBatch {
  readonly sink: RemoteSink;
  readonly ids: readonly number[];
  readonly events: readonly AuditEvent[];
}

type StateRow = {
  sink: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
  last_ok_at: number | null;
  delivered: number;
  failures: number;
};

/** Outbox table access. */
export class Outbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Queue events for a sink, as their JSON text (what the events table stores for them). An
   * idle sink becomes due at `readyAt`, so a batch can gather; a sink in backoff keeps its
   * schedule. Rows go in multi-row INSERTs, in the order given (the outbox's ids keep it).
   */
  append(sink: RemoteSink, bodies: readonly string[], now: number, readyAt: number): void {
    if (bodies.length === 0) return;
    for (let start = 0; start < bodies.length; start += OUTBOX_INSERT_ROWS) {
      const chunk = bodies.slice(start, start + OUTBOX_INSERT_ROWS);
      const values: SqlStorageValue[] = [];
      for (const body of chunk) values.push(sink, now, body);
      this.sql.exec(`INSERT INTO outbox (sink, enqueued, body) VALUES ${rowsOf(chunk.length, 3)}`, ...values);
    }
    this.sql.exec(
      `INSERT INTO sink_state (sink, attempts, next_at, last_error, last_ok_at, delivered, failures)
       VALUES (?, 0, ?, NULL, NULL, 0, 0)
       ON CONFLICT (sink) DO UPDATE SET next_at = excluded.next_at
       WHERE sink_state.attempts = 0 AND sink_state.next_at < ?`,
      sink,
      readyAt,
      now,
    );
  }

  /** Sinks with pending rows whose next attempt is due at `now`. */
  due(now: number): RemoteSink[] {
    return this.sql
      .exec<{ sink: string }>(
        "SELECT s.sink FROM sink_state s WHERE s.next_at <= ? AND EXISTS (SELECT 1 FROM outbox o WHERE o.sink = s.sink)",
        now,
      )
      .toArray()
      .map((r) => r.sink as RemoteSink);
  }

  /** The oldest `limit` rows of a sink. The same rows come back until acknowledged. */
  take(sink: RemoteSink, limit: number): OutboxBatch {
    const rows = this.sql
      .exec<{ id: number; body: string }>("SELECT id, body FROM outbox WHERE sink = ? ORDER BY id LIMIT ?", sink, limit)
      .toArray();
    return { sink, ids: rows.map((r) => r.id), events: rows.map((r) => JSON.parse(r.body) as AuditEvent) };
  }

  /** The sink took the batch: drop it and clear the retry state. */
  ack(batch: OutboxBatch, now: number): void {
    const last = batch.ids.at(-1);
    if (last === undefined) return;
    this.sql.exec("DELETE FROM outbox WHERE sink = ? AND id <= ?", batch.sink, last);
    this.sql.exec(
      "UPDATE sink_state SET attempts = 0, next_at = ?, last_ok_at = ?, delivered = delivered + ? WHERE sink = ?",
      now,
      now,
      batch.ids.length,
      batch.sink,
    );
  }

  /** The sink failed: keep the rows, back off. Returns when to try again. */
  fail(sink: RemoteSink, error: string, now: number): number {
    const state = this.state(sink);
    const attempts = (state?.attempts ?? 0) + 1;
    const nextAt = now + backoffDelay(attempts, this.backoff, this.random);
    this.sql.exec(
      "UPDATE sink_state SET attempts = ?, next_at = ?, last_error = ?, failures = failures + 1 WHERE sink = ?",
      attempts,
      nextAt,
      error.slice(0, 200),
      sink,
    );
    return nextAt;
  }

  /** Earliest next attempt over sinks with pending rows, or null when all are drained. */
  nextDue(): number | null {
    const row = this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(s.next_at) AS at FROM sink_state s WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.sink = s.sink)",
      )
      .one();
    return row.at;
  }

  /** Per-sink status for the dashboard and metrics. */
  status(now: number): SinkStatus[] {
    return this.sql
      .exec<StateRow>("SELECT * FROM sink_state ORDER BY sink")
      .toArray()
      .map((s) => {
        const pending = this.sql
          .exec<{ n: number; oldest: number | null }>(
            "SELECT COUNT(*) AS n, MIN(enqueued) AS oldest FROM outbox WHERE sink = ?",
            s.sink,
          )
          .one();
        return {
          sink: s.sink as RemoteSink,
          pending: pending.n,
          oldestAgeMs: pending.oldest === null ? null : Math.max(0, now - pending.oldest),
          attempts: s.attempts,
          nextAttemptAt: pending.n > 0 ? s.next_at : null,
          lastError: s.last_error,
          lastOkAt: s.last_ok_at,
          delivered: s.delivered,
          failures: s.failures,
        };
      });
  }

  private state(sink: RemoteSink): StateRow | undefined {
    return this.sql.exec<StateRow>("SELECT * FROM sink_state WHERE sink = ?", sink).toArray()[0];
  }
}
