/**
 * The live reputation layer's table in the audit hub (docs/architecture.md, "Live lists"):
 * one row per (target, list), written by operators through the admin API and read by every
 * isolate, at most once per refresh interval, off the request path.
 */
import { type LiveEntry, MAX_LIVE_ENTRIES } from "../../shared/live-list.ts";

/** SQL schema; idempotent. */
export const LIVE_LIST_SCHEMA = `
  CREATE TABLE IF NOT EXISTS live_lists (target TEXT, list TEXT, kind TEXT, effect TEXT, reason TEXT, source TEXT,
    created_at INTEGER, expires_at INTEGER, PRIMARY KEY (target, list));
`;

type Row = {
  target: string;
  list: string;
  kind: string;
  effect: string;
  reason: string;
  source: string;
  created_at: number;
  expires_at: number | null;
};

function toEntry(r: Row): LiveEntry {
  return {
    target: r.target,
    list: r.list,
    kind: r.kind as LiveEntry["kind"],
    effect: r.effect === "remove" ? "remove" : "add",
    reason: r.reason,
    source: r.source,
    created_at: r.created_at,
    expires_at: r.expires_at,
  };
}

/** Live list rows. */
export class LiveListTable {
  constructor(private readonly sql: SqlStorage) {}

  /** Unexpired entries at `now`, oldest first. */
  list(now: number): LiveEntry[] {
    return this.sql
      .exec<Row>("SELECT * FROM live_lists WHERE expires_at IS NULL OR expires_at > ? ORDER BY created_at, target, list", now)
      .toArray()
      .map(toEntry);
  }

  /** Add or replace the entry for its (target, list); throws when the table is full. */
  put(entry: LiveEntry): void {
    const exists = this.sql.exec("SELECT 1 FROM live_lists WHERE target = ? AND list = ?", entry.target, entry.list).toArray().length > 0;
    if (!exists) {
      const count = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM live_lists").one().n;
      if (count >= MAX_LIVE_ENTRIES) throw new Error(`live lists are full (${MAX_LIVE_ENTRIES} entries)`);
    }
    this.sql.exec(
      "INSERT OR REPLACE INTO live_lists (target, list, kind, effect, reason, source, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      entry.target,
      entry.list,
      entry.kind,
      entry.effect,
      entry.reason,
      entry.source,
      entry.created_at,
      entry.expires_at,
    );
  }

  /** Remove the entry for (target, list); the removed entry, or null when there was none. */
  remove(target: string, list: string): LiveEntry | null {
    const rows = this.sql.exec<Row>("SELECT * FROM live_lists WHERE target = ? AND list = ?", target, list).toArray();
    const row = rows[0];
    if (row === undefined) return null;
    this.sql.exec("DELETE FROM live_lists WHERE target = ? AND list = ?", target, list);
    return toEntry(row);
  }

  /** Drop lapsed entries. */
  sweep(now: number): void {
    this.sql.exec("DELETE FROM live_lists WHERE expires_at IS NOT NULL AND expires_at <= ?", now);
  }
}
