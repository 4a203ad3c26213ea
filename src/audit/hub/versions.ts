/**
 * Rule-set versions and signing keys the hub has seen, with first and last sighting.
 * A key seen for the first time after another is a rotation: the hub derives a
 * `key.rotated` event from it, so rotations are audited without anyone emitting them.
 */

import type { VersionKind, VersionSeen } from "../api-types.ts";

export type { VersionKind, VersionSeen };

/** SQL schema; idempotent. */
export const VERSION_SCHEMA = `
  CREATE TABLE IF NOT EXISTS versions (kind TEXT, value TEXT, first_seen INTEGER, last_seen INTEGER, PRIMARY KEY (kind, value));
`;

/** Versions table access. */
export class Versions {
  constructor(private readonly sql: SqlStorage) {}

  /**
   * Record a sighting. Returns the previously newest value of the kind when `value` is
   * new and something came before it (a rotation), otherwise null.
   */
  see(kind: VersionKind, value: string, at: number): string | null {
    const known = this.sql.exec("SELECT 1 FROM versions WHERE kind = ? AND value = ?", kind, value).toArray().length > 0;
    if (known) {
      this.sql.exec("UPDATE versions SET last_seen = MAX(last_seen, ?) WHERE kind = ? AND value = ?", at, kind, value);
      return null;
    }
    const previous = this.sql
      .exec<{ value: string }>("SELECT value FROM versions WHERE kind = ? ORDER BY first_seen DESC LIMIT 1", kind)
      .toArray()[0];
    this.sql.exec("INSERT INTO versions (kind, value, first_seen, last_seen) VALUES (?, ?, ?, ?)", kind, value, at, at);
    return previous?.value ?? null;
  }

  /** Everything seen, newest first. */
  list(): VersionSeen[] {
    return this.sql
      .exec<{ kind: string; value: string; first_seen: number; last_seen: number }>(
        "SELECT * FROM versions ORDER BY first_seen DESC LIMIT 50",
      )
      .toArray()
      .map((r) => ({ kind: r.kind as VersionKind, value: r.value, firstSeen: r.first_seen, lastSeen: r.last_seen }));
  }
}
