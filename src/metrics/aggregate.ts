/**
 * Local metric aggregation in the audit hub's SQLite: per-minute series for the
 * dashboard (kept 26 hours) and running totals for Prometheus. This is what makes the
 * dashboard work under `npm start` and on Cloudflare without a metrics backend;
 * Workers Analytics Engine gets the same data points for long-term queries.
 */
import { MAX_BOUND_VALUES, rowsOf } from "../shared/sql-rows.ts";
import type { Increment } from "./from-event.ts";

/** SQL schema; idempotent. */
export const METRIC_SCHEMA = `
  CREATE TABLE IF NOT EXISTS metric_minutes (minute INTEGER, name TEXT, labels TEXT, value REAL, PRIMARY KEY (minute, name, labels));
  CREATE TABLE IF NOT EXISTS metric_totals (name TEXT, labels TEXT, value REAL, PRIMARY KEY (name, labels));
`;

/** Per-minute rows older than this are swept. */
export const MINUTE_RETENTION_MS = 26 * 60 * 60 * 1000;
/** Distinct label sets per metric; beyond it new ones fold into `{overflow="true"}`. */
export const MAX_SERIES_PER_METRIC = 1_000;
const OVERFLOW = JSON.stringify({ overflow: "true" });

/** One series value. */
export interface SeriesValue {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One series value in one minute (minute = ms since epoch at the minute's start). */
export interface MinuteValue extends SeriesValue {
  readonly minute: number;
}

/** Run `statement(n)` over `rows` in as few statements as the bound-value limit allows. */
function upsert(sql: SqlStorage, rows: readonly SqlStorageValue[][], statement: (n: number) => string): void {
  const width = rows[0]?.length ?? 1;
  const per = Math.floor(MAX_BOUND_VALUES / width);
  for (let start = 0; start < rows.length; start += per) {
    const chunk = rows.slice(start, start + per);
    sql.exec(statement(chunk.length), ...chunk.flat());
  }
}

/** Canonical label key: JSON with sorted keys. */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  // Most label sets are written in key order (src/metrics/from-event.ts): serialised as they are.
  const keys = Object.keys(labels);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = (keys[i - 1] as string) < (keys[i] as string);
  if (sorted) return JSON.stringify(labels);
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** Start of the minute containing `ms`. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000) * 60_000;
}

/** Metric tables access. */
export class MetricStore {
  private readonly known = new Map<string, Set<string>>();

  constructor(private readonly sql: SqlStorage) {}

  /**
   * Add a batch's increments, grouped by the time they were observed at (ms; each counts in
   * its minute). Same series are merged first, then written in multi-row upserts: an
   * ingest's metrics are a few statements, not two per series.
   */
  apply(byTime: ReadonlyMap<number, readonly Increment[]>): void {
    const minutes = new Map<string, { minute: number; name: string; labels: string; value: number }>();
    const totals = new Map<string, { name: string; labels: string; value: number }>();
    for (const [at, increments] of byTime) {
      const minute = minuteOf(at);
      for (const i of increments) {
        const labels = this.keyFor(i.name, labelKey(i.labels));
        const series = `${i.name}\u0000${labels}`;
        const total = totals.get(series);
        if (total === undefined) totals.set(series, { name: i.name, labels, value: i.value });
        else total.value += i.value;
        const key = `${minute}\u0000${series}`;
        const row = minutes.get(key);
        if (row === undefined) minutes.set(key, { minute, name: i.name, labels, value: i.value });
        else row.value += i.value;
      }
    }
    upsert(
      this.sql,
      [...minutes.values()].map((r) => [r.minute, r.name, r.labels, r.value]),
      (n) => `INSERT INTO metric_minutes (minute, name, labels, value) VALUES ${rowsOf(n, 4)} ON CONFLICT (minute, name, labels) DO UPDATE SET value = value + excluded.value`,
    );
    upsert(
      this.sql,
      [...totals.values()].map((r) => [r.name, r.labels, r.value]),
      (n) => `INSERT INTO metric_totals (name, labels, value) VALUES ${rowsOf(n, 3)} ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value`,
    );
  }

  /** Running totals (for Prometheus), sorted by name then labels. */
  totals(): SeriesValue[] {
    return this.sql
      .exec<{ name: string; labels: string; value: number }>("SELECT name, labels, value FROM metric_totals ORDER BY name, labels")
      .toArray()
      .map((r) => ({ name: r.name, labels: JSON.parse(r.labels) as Record<string, string>, value: r.value }));
  }

  /** Minute values from `from` (inclusive) on, optionally for some metric names only. */
  since(from: number, names?: readonly string[]): MinuteValue[] {
    const rows = this.sql
      .exec<{ minute: number; name: string; labels: string; value: number }>(
        "SELECT minute, name, labels, value FROM metric_minutes WHERE minute >= ? ORDER BY minute",
        minuteOf(from),
      )
      .toArray();
    const wanted = names === undefined ? null : new Set(names);
    return rows
      .filter((r) => wanted === null || wanted.has(r.name))
      .map((r) => ({ minute: r.minute, name: r.name, labels: JSON.parse(r.labels) as Record<string, string>, value: r.value }));
  }

  /** Drop minute rows past retention. Totals are kept: Prometheus counters never go back. */
  sweep(now: number): void {
    this.sql.exec("DELETE FROM metric_minutes WHERE minute < ?", now - MINUTE_RETENTION_MS);
  }

  private keyFor(name: string, key: string): string {
    let seen = this.known.get(name);
    if (seen === undefined) {
      seen = new Set(
        this.sql
          .exec<{ labels: string }>("SELECT labels FROM metric_totals WHERE name = ?", name)
          .toArray()
          .map((r) => r.labels),
      );
      this.known.set(name, seen);
    }
    if (seen.has(key)) return key;
    if (seen.size >= MAX_SERIES_PER_METRIC) return OVERFLOW;
    seen.add(key);
    return key;
  }
}
