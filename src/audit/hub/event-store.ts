/**
 * Recent audit events inside the audit hub (SQLite in a Durable Object): what the
 * dashboard lists and what every decision on it links to. Bounded by age (hourly sweep)
 * and by a row cap enforced on every insert, oldest first (issue 13.11): a flood cannot
 * grow one hub shard toward the 10 GB per-object limit between sweeps. The durable copy
 * for auditors is the SIEM (webhook/queue) and the log. Sizing: docs/store.md.
 */
import { MAX_BOUND_VALUES, rowsOf } from "../../shared/sql-rows.ts";
import type { AuditEvent } from "../events.ts";

/** How long and how many events (per hub shard) the hub keeps for the dashboard. */
export const EVENT_RETENTION_MS = 24 * 60 * 60 * 1000;
export const EVENT_RETENTION_ROWS = 50_000;
/** Share of the row cap at which the shard logs `riskgate.audit_hub_near_cap`. */
export const EVENT_NEAR_CAP = 0.8;

/** Events per INSERT: five values each, and a Durable Object statement binds at most 100. */
export const INSERT_ROWS = MAX_BOUND_VALUES / 5;

/** SQL schema; idempotent. */
export const EVENT_SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT, decision_id TEXT, at INTEGER, body TEXT);
  CREATE INDEX IF NOT EXISTS events_type_at ON events (type, at);
  CREATE INDEX IF NOT EXISTS events_decision ON events (decision_id);
`;

/** Events table access. */
export class EventStore {
  /** Rows in the table, counted once at start and kept in step with inserts and deletes. */
  private count: number;
  /** Rows dropped to stay under the cap since the object started. */
  evicted = 0;

  constructor(
    private readonly sql: SqlStorage,
    /** Most rows kept; the oldest go first (AUDIT_HUB_MAX_EVENTS). */
    public cap: number = EVENT_RETENTION_ROWS,
  ) {
    this.count = sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n;
  }

  /** Rows held now. */
  get rows(): number {
    return this.count;
  }

  /**
   * Drop the oldest rows (by insertion order) until the table is at its cap. Run after each
   * ingest: deleting by rowid from the front is a short range delete, not a scan.
   */
  enforceCap(): number {
    const over = this.count - this.cap;
    if (over <= 0) return 0;
    // `count` is exact, so the table holds at least `over` rows and exactly that many go.
    this.sql.exec("DELETE FROM events WHERE rowid IN (SELECT rowid FROM events ORDER BY rowid LIMIT ?)", over);
    this.count -= over;
    this.evicted += over;
    return over;
  }

  /**
   * Insert a batch; returns the events newly stored, by id, with the JSON text stored for
   * each (the outbox stores the same text: an event is serialised once). An id already
   * there (a retried ingest) is left alone and not returned, so callers neither count nor
   * queue it again. Up to INSERT_ROWS events go in one statement (`RETURNING` names the
   * rows it inserted): a statement per event was most of an ingest's SQLite time
   * (BENCHMARKS.md, "The audit hub's ingest").
   */
  insert(events: readonly AuditEvent[]): Map<string, string> {
    const inserted = new Map<string, string>();
    for (let start = 0; start < events.length; start += INSERT_ROWS) {
      const chunk = events.slice(start, start + INSERT_ROWS);
      const values: SqlStorageValue[] = [];
      const bodies = new Map<string, string>();
      for (const event of chunk) {
        const body = JSON.stringify(event);
        // A repeat within the chunk: the first is the row INSERT OR IGNORE keeps.
        if (!bodies.has(event.id)) bodies.set(event.id, body);
        values.push(event.id, event.type, event.decision_id, Date.parse(event.ts), body);
      }
      const cursor = this.sql.exec<{ id: string }>(`INSERT OR IGNORE INTO events (id, type, decision_id, at, body) VALUES ${rowsOf(chunk.length, 5)} RETURNING id`, ...values);
      for (const row of cursor) inserted.set(row.id, bodies.get(row.id) as string);
    }
    this.count += inserted.size;
    return inserted;
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

  /** Drop events past retention (age, then count). Hourly, over at most the retained rows. */
  sweep(now: number): void {
    this.sql.exec("DELETE FROM events WHERE at < ?", now - EVENT_RETENTION_MS);
    this.count = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n;
    this.enforceCap();
  }
}
