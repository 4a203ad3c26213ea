/**
 * Per-source status of the scheduled list refresh (src/audit/list-refresh.ts), kept in the
 * audit hub beside the live entries it describes: last success, entries, last error. The
 * CrowdSec importer's stream position (`synced`) lives here too.
 */
import type { ListSourceStatus, SourceState } from "../../shared/list-sources.ts";

/** SQL schema; idempotent. */
export const SOURCE_STATUS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS list_sources (id TEXT PRIMARY KEY, list TEXT, last_success INTEGER, last_attempt INTEGER,
    excluded INTEGER, last_error TEXT, errors INTEGER, synced INTEGER);
`;

type Row = {
  id: string;
  list: string;
  last_success: number | null;
  last_attempt: number | null;
  excluded: number;
  last_error: string | null;
  errors: number;
  synced: number;
};

/** Source status rows. */
export class SourceStatusTable {
  constructor(private readonly sql: SqlStorage) {}

  private row(id: string, list: string): Row {
    return (
      this.sql.exec<Row>("SELECT * FROM list_sources WHERE id = ?", id).toArray()[0] ?? {
        id,
        list,
        last_success: null,
        last_attempt: null,
        excluded: 0,
        last_error: null,
        errors: 0,
        synced: 0,
      }
    );
  }

  private write(r: Row): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO list_sources (id, list, last_success, last_attempt, excluded, last_error, errors, synced) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      r.id,
      r.list,
      r.last_success,
      r.last_attempt,
      r.excluded,
      r.last_error,
      r.errors,
      r.synced,
    );
  }

  /** A refresh that stored the source's entries. */
  succeeded(id: string, list: string, now: number, excluded: number): void {
    this.write({ ...this.row(id, list), list, last_success: now, last_attempt: now, excluded, last_error: null, synced: 1 });
  }

  /** A refresh that failed; the entries stay as they were. `resync`: the next poll starts over. */
  failed(id: string, list: string, now: number, error: string, resync: boolean): void {
    const r = this.row(id, list);
    this.write({ ...r, list, last_attempt: now, last_error: error, errors: r.errors + 1, synced: resync ? 0 : r.synced });
  }

  /** Whether an incremental source (CrowdSec) has a full set to apply deltas to. */
  synced(id: string): boolean {
    return this.sql.exec<{ synced: number }>("SELECT synced FROM list_sources WHERE id = ?", id).toArray()[0]?.synced === 1;
  }

  /** Every source's status; `held(id)` counts the unexpired entries it has in the live layer. */
  list(held: (id: string) => number): ListSourceStatus[] {
    return this.sql
      .exec<Row>("SELECT * FROM list_sources ORDER BY id")
      .toArray()
      .map((r) => {
        const entries = held(r.id);
        const state: SourceState =
          r.last_attempt === null ? "pending" : r.last_error === null ? "ok" : entries > 0 ? "SOURCE_STALE" : "SOURCE_LAPSED";
        return {
          id: r.id,
          list: r.list,
          state,
          entries,
          excluded: r.excluded,
          last_success: r.last_success,
          last_attempt: r.last_attempt,
          last_error: r.last_error,
          errors: r.errors,
        };
      });
  }
}
