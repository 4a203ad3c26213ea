/**
 * The live reputation layer's table in the audit hub (docs/architecture.md, "Live lists"):
 * one row per (target, list), written by operators through the admin API and read by every
 * isolate, at most once per refresh interval, off the request path.
 */
import { type LiveEntry, type LiveLift, MAX_LIVE_ENTRIES } from "../../shared/live-list.ts";

/** SQL schema; idempotent. */
export const LIVE_LIST_SCHEMA = `
  CREATE TABLE IF NOT EXISTS live_lists (target TEXT, list TEXT, kind TEXT, effect TEXT, reason TEXT, source TEXT,
    created_at INTEGER, expires_at INTEGER, PRIMARY KEY (target, list));
  CREATE INDEX IF NOT EXISTS live_lists_source ON live_lists (source);
  CREATE TABLE IF NOT EXISTS live_lifts (kind TEXT, entity TEXT, lifted_at INTEGER, expires_at INTEGER, PRIMARY KEY (kind, entity));
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

/** A stored expiry that has less than half the time left the new one gives (null: never expires). */
function renewalDue(stored: number | null, renewed: number | null, now: number): boolean {
  if (stored === renewed) return false;
  if (renewed === null || stored === null) return true;
  return stored - now < (renewed - now) / 2;
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

  /**
   * Replace every entry a source wrote with `entries`, in one transaction of the caller's.
   * An entry someone else holds for the same (target, list) (an operator's block or release,
   * another source) is left alone: a source never overwrites an operator. Throws, changing
   * nothing, when the table would pass MAX_LIVE_ENTRIES.
   */
  replaceSource(source: string, entries: readonly LiveEntry[]): number {
    const others = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM live_lists WHERE source != ?", source).one().n;
    if (others + entries.length > MAX_LIVE_ENTRIES) throw new Error(`live lists would pass ${MAX_LIVE_ENTRIES} entries`);
    this.sql.exec("DELETE FROM live_lists WHERE source = ?", source);
    for (const e of entries) this.upsertFromSource(e);
    return this.countSource(source);
  }

  /** Apply a source's delta: remove its entries for `removed` targets, then add or renew `added`. */
  applySourceDelta(source: string, added: readonly LiveEntry[], removed: readonly { target: string; list: string }[]): number {
    for (const r of removed) this.sql.exec("DELETE FROM live_lists WHERE target = ? AND list = ? AND source = ?", r.target, r.list, source);
    const total = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM live_lists").one().n;
    if (total + added.length > MAX_LIVE_ENTRIES) throw new Error(`live lists would pass ${MAX_LIVE_ENTRIES} entries`);
    for (const e of added) this.upsertFromSource(e);
    return this.countSource(source);
  }

  /**
   * Whether writing `entries` for a source would change what an isolate reads from the
   * layer: a target added or (`whole`: `entries` is the source's full set) dropped, a kind,
   * effect or reason changed, or an entry's renewal due. A renewal is due when the stored
   * expiry has less than half the time left that the new one would give: isolates hold
   * the expiry of their last reload and check it on every lookup, so an unchanged set is
   * re-read every half expiry (3.5 days at the default 7d), not on every refresh. Entries
   * another owner holds for the same (target, list) are skipped: a source never writes them.
   */
  changesSource(source: string, entries: readonly LiveEntry[], whole: boolean, now: number): boolean {
    const held = new Map<string, Row>();
    for (const r of this.sql.exec<Row>("SELECT * FROM live_lists WHERE source = ?", source).toArray()) held.set(`${r.list}\n${r.target}`, r);
    const seen = new Set<string>();
    for (const e of entries) {
      const key = `${e.list}\n${e.target}`;
      seen.add(key);
      const row = held.get(key);
      if (row === undefined) {
        const owned = this.sql.exec("SELECT 1 FROM live_lists WHERE target = ? AND list = ?", e.target, e.list).toArray().length > 0;
        if (owned) continue;
        return true;
      }
      if (row.kind !== e.kind || row.effect !== e.effect || row.reason !== e.reason) return true;
      if (renewalDue(row.expires_at, e.expires_at, now)) return true;
    }
    if (!whole) return false;
    for (const [key, row] of held) if (!seen.has(key) && (row.expires_at === null || row.expires_at > now)) return true;
    return false;
  }

  /** Whether a source holds a row for (target, list). */
  holds(source: string, target: string, list: string): boolean {
    return this.sql.exec("SELECT 1 FROM live_lists WHERE target = ? AND list = ? AND source = ?", target, list, source).toArray().length > 0;
  }

  /** Unexpired entries a source holds at `now`. */
  countSource(source: string, now?: number): number {
    return this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM live_lists WHERE source = ? AND (expires_at IS NULL OR expires_at > ?)", source, now ?? 0)
      .one().n;
  }

  private upsertFromSource(e: LiveEntry): void {
    this.sql.exec(
      `INSERT INTO live_lists (target, list, kind, effect, reason, source, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (target, list) DO UPDATE SET reason = excluded.reason, expires_at = excluded.expires_at WHERE live_lists.source = excluded.source`,
      e.target,
      e.list,
      e.kind,
      e.effect,
      e.reason,
      e.source,
      e.created_at,
      e.expires_at,
    );
  }

  /** Unexpired penalty lifts at `now` (at most one per key: the latest). */
  lifts(now: number): LiveLift[] {
    return this.sql
      .exec<{ kind: string; entity: string; lifted_at: number; expires_at: number }>(
        "SELECT kind, entity, lifted_at, expires_at FROM live_lifts WHERE expires_at > ? ORDER BY lifted_at",
        now,
      )
      .toArray()
      .map((r) => ({ kind: r.kind, entity: r.entity, lifted_at: r.lifted_at, expires_at: r.expires_at }));
  }

  /** Record a penalty lift, replacing an earlier one of the same key. */
  putLift(lift: LiveLift): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO live_lifts (kind, entity, lifted_at, expires_at) VALUES (?, ?, ?, ?)",
      lift.kind,
      lift.entity,
      lift.lifted_at,
      lift.expires_at,
    );
  }

  /** Drop lapsed entries and lifts. */
  sweep(now: number): void {
    this.sql.exec("DELETE FROM live_lists WHERE expires_at IS NOT NULL AND expires_at <= ?", now);
    this.sql.exec("DELETE FROM live_lifts WHERE expires_at <= ?", now);
  }
}
