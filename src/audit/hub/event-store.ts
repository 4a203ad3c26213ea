/**
 * Recent audit events inside the audit hub (SQLite in a Durable Object): what the
 * dashboard lists and what every decision on it links to. Bounded by age and count;
 * the durable copy for auditors is the SIEM (webhook/queue) and the log.
 */
import type { AuditEvent } from "../events.ts";

/** How long and how many events the hub keeps for the dashboard. */
export const EVENT_RETENTION_MS = 24 * 60 * 60 * 1000;
export const EVENT_RETENTION_ROWS = 50_000;

/** SQL schema; idempotent. */
export const EVENT_SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT, decision_id TEXT, at INTEGER, body TEXT);
  CREATE INDEX IF NOT EXISTS events_type_at ON events (type, at);
  CREATE INDEX IF NOT EXISTS events_decision ON events (decision_id);
`;

/** Events table access. */
export class EventStore {
  constructor(private readonly sql: SqlStorage) {}

  /** Insert; false when the id was already there (a retried ingest), so callers skip it. */
  insert(event: AuditEvent): boolean {
    const cursor = this.sql.exec(
      "INSERT OR IGNORE INTO events (id, type, decision_id, at, body) VALUES (?, ?, ?, ?, ?)",
      event.id,
      event.type,
      event.decision_id,
      Date.parse(event.ts),
      JSON.stringify(event),
    );
    return cursor.rowsWritten > 0;
  }

  /** One event by id. */
  get(id: string): AuditEvent | null {
    const row = this.sql.exec<{ body: string }>("SELECT body FROM events WHERE id = ?", id).toArray()[0];
    return row === undefined ? null : (JSON.parse(row.body) as AuditEvent);
  }

  /** Every event of one decision, in order. */
  forDecision(decisionId: string): AuditEvent[] {
    return this.sql
      .exec<{ body: string }>("SELECT body FROM events WHERE decision_id = ? ORDER BY at, rowid", decisionId)
      .toArray()
      .map((r) => JSON.parse(r.body) as AuditEvent);
  }

  /** The newest events of `type`, newest first. */
  recent(type: AuditEvent["type"] | readonly AuditEvent["type"][], limit: number): AuditEvent[] {
    const types = typeof type === "string" ? [type] : type;
    return this.sql
      .exec<{ body: string }>(
        `SELECT body FROM events WHERE type IN (${types.map(() => "?").join(", ")}) ORDER BY at DESC, rowid DESC LIMIT ?`,
        ...types,
        limit,
      )
      .toArray()
      .map((r) => JSON.parse(r.body) as AuditEvent);
  }

  /**
   * Events of `type` at or after `sinceMs`, oldest first, after `cursor` (the previous
   * page's last `at` and rowid), for exports that page through the retained events.
   */
  page(type: AuditEvent["type"], sinceMs: number, cursor: { at: number; rowid: number } | null, limit: number): { events: AuditEvent[]; last: { at: number; rowid: number } | null } {
    const after = cursor ?? { at: sinceMs, rowid: -1 };
    const rows = this.sql
      .exec<{ body: string; at: number; rowid: number }>(
        "SELECT body, at, rowid FROM events WHERE type = ? AND at >= ? AND (at > ? OR (at = ? AND rowid > ?)) ORDER BY at, rowid LIMIT ?",
        type,
        sinceMs,
        after.at,
        after.at,
        after.rowid,
        limit,
      )
      .toArray();
    const tail = rows.at(-1);
    return { events: rows.map((r) => JSON.parse(r.body) as AuditEvent), last: tail === undefined ? null : { at: tail.at, rowid: tail.rowid } };
  }

  /**
   * Drop events past retention (age, then count). Hourly, over at most the retained rows:
   * a scan here is cheaper than one more index write on every insert.
   */
  sweep(now: number): void {
    this.sql.exec("DELETE FROM events WHERE at < ?", now - EVENT_RETENTION_MS);
    this.sql.exec(
      "DELETE FROM events WHERE rowid <= (SELECT rowid FROM events ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
      EVENT_RETENTION_ROWS,
    );
  }
}
