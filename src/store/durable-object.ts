/**
 * The embedded default store: a SQLite-backed Durable Object that owns one shard of
 * keys (the adapter in durable-object-store.ts picks the shard). Strongly consistent
 * per shard (one object, single-threaded), persistent across restarts of `npm start`
 * (wrangler keeps the SQLite files under .wrangler/state).
 *
 * Expiry: every row carries the epoch ms after which it is dead. Reads and writes
 * ignore dead rows (so expiry is exact, as on Redis), and an alarm deletes them in the
 * background so space is reclaimed.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { escalate, readPenalty, type StoredPenalty } from "./penalty.ts";
import type {
  AccountHistory,
  DistinctAdd,
  HistoryUpdate,
  PenaltyCheck,
  PenaltyState,
  PenaltyUpdate,
  PrivilegedTag,
  RateLimitCheck,
  RateLimitResult,
  TallyRow,
  WindowHit,
} from "./port.ts";
import { HISTORY_LIMIT, HISTORY_RETENTION_MS, TALLY_EVENT_TTL_MS } from "./port.ts";
import { rateLimitPrefix } from "./ephemeral.ts";
import { bucketExpiresAt, bucketOf, rateLimitDecision, slidingCount } from "./window.ts";
import { parseTallyField } from "./tally.ts";

/** Distinct members kept per bucket; beyond this the count saturates at the cap. */
const DISTINCT_CAP = 10_000;
const SWEEP_EVERY_MS = 60_000;
const HISTORY_KINDS = ["device", "country", "asn"] as const;

/** One shard's part of an observe batch (the adapter keeps the original order). */
export interface ShardBatch {
  readonly now: number;
  readonly hits: readonly WindowHit[];
  readonly distinct: readonly DistinctAdd[];
  readonly limits: readonly RateLimitCheck[];
  readonly penalties: readonly PenaltyCheck[];
  readonly historyKey: string | null;
}

/** One shard's answers, in the batch's order. */
export interface ShardResult {
  readonly counts: number[];
  readonly distinct: number[];
  readonly limits: RateLimitResult[];
  readonly penalties: PenaltyState[];
  readonly history: AccountHistory | null;
}

// `history (key, body)` was the first layout (one JSON blob per account); its rows are
// replaced by history_items/history_last, which keep per-value times like Redis's sorted sets.
const SCHEMA = `
  DROP TABLE IF EXISTS history;
  CREATE TABLE IF NOT EXISTS hits (key TEXT, bucket INTEGER, n INTEGER, expires INTEGER, PRIMARY KEY (key, bucket));
  CREATE TABLE IF NOT EXISTS members (key TEXT, bucket INTEGER, member TEXT, expires INTEGER, PRIMARY KEY (key, bucket, member));
  CREATE TABLE IF NOT EXISTS history_items (key TEXT, kind TEXT, value TEXT, at INTEGER, expires INTEGER, PRIMARY KEY (key, kind, value));
  CREATE TABLE IF NOT EXISTS history_last (key TEXT PRIMARY KEY, lat REAL, lon REAL, at INTEGER, expires INTEGER);
  CREATE TABLE IF NOT EXISTS history_tags (key TEXT PRIMARY KEY, privileged INTEGER, at INTEGER, expires INTEGER);
  CREATE TABLE IF NOT EXISTS penalties (key TEXT PRIMARY KEY, level INTEGER, until INTEGER, expires INTEGER);
  CREATE TABLE IF NOT EXISTS tallies (experiment TEXT, field TEXT, value INTEGER, PRIMARY KEY (experiment, field));
  CREATE TABLE IF NOT EXISTS tally_events (key TEXT PRIMARY KEY, expires INTEGER);
  CREATE INDEX IF NOT EXISTS hits_expires ON hits (expires);
  CREATE INDEX IF NOT EXISTS members_expires ON members (expires);
  CREATE INDEX IF NOT EXISTS history_items_expires ON history_items (expires);
`;
const EXPIRING = ["hits", "members", "history_items", "history_last", "history_tags", "penalties", "tally_events"] as const;
/** The `expires` of a set privileged tag: it lasts until the origin clears it. */
const NEVER = Number.MAX_SAFE_INTEGER;

/** The Durable Object class that owns one shard of keys. */
export class RiskgateStore extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** True once this object instance knows the sweep alarm is set. */
  private sweepScheduled = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** Apply one request's operations for this shard; single-threaded, so no lost counts. */
  async observe(batch: ShardBatch): Promise<ShardResult> {
    const alive = Date.now();
    const result: ShardResult = {
      counts: batch.hits.map((hit) => this.hit(batch.now, alive, hit)),
      distinct: batch.distinct.map((add) => this.add(batch.now, alive, add)),
      limits: batch.limits.map((check) => this.limit(batch.now, alive, check)),
      penalties: batch.penalties.map((p) => readPenalty(this.storedPenalty(p.key, alive), batch.now, p.policy)),
      history: batch.historyKey === null ? null : this.readHistory(batch.historyKey, alive),
    };
    await this.ensureSweep();
    return result;
  }

  /** Merge a confirmed outcome into the account's history (newest `HISTORY_LIMIT` per kind). */
  async recordHistory(update: HistoryUpdate): Promise<void> {
    const expires = update.at + HISTORY_RETENTION_MS;
    const values = { device: update.device, country: update.country, asn: update.asn === null ? null : String(update.asn) };
    for (const kind of HISTORY_KINDS) {
      const value = values[kind];
      if (value === null) continue;
      this.sql.exec(
        `INSERT INTO history_items (key, kind, value, at, expires) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key, kind, value) DO UPDATE SET at = max(at, excluded.at)`,
        update.historyKey, kind, value, update.at, expires,
      );
      this.sql.exec(
        `DELETE FROM history_items WHERE key = ?1 AND kind = ?2 AND value NOT IN
         (SELECT value FROM history_items WHERE key = ?1 AND kind = ?2 ORDER BY at DESC, value DESC LIMIT ?3)`,
        update.historyKey, kind, HISTORY_LIMIT,
      );
    }
    if (update.location !== null) {
      this.sql.exec(
        `INSERT INTO history_last (key, lat, lon, at, expires) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET lat = excluded.lat, lon = excluded.lon, at = excluded.at
         WHERE excluded.at >= history_last.at`,
        update.historyKey, update.location.lat, update.location.lon, update.at, expires,
      );
    }
    if (update.privileged !== undefined) this.recordTag(update.historyKey, update.privileged, expires);
    // Any update keeps the whole history alive for another retention period.
    this.sql.exec("UPDATE history_items SET expires = ? WHERE key = ?", expires, update.historyKey);
    this.sql.exec("UPDATE history_last SET expires = ? WHERE key = ?", expires, update.historyKey);
    this.sql.exec("UPDATE history_tags SET expires = ? WHERE key = ? AND privileged = 0", expires, update.historyKey);
    await this.ensureSweep();
  }

  /** The origin's latest statement wins; a set tag never expires, a cleared one with the history. */
  private recordTag(key: string, tag: PrivilegedTag, expires: number): void {
    this.sql.exec(
      `INSERT INTO history_tags (key, privileged, at, expires) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET privileged = excluded.privileged, at = excluded.at, expires = excluded.expires
       WHERE excluded.at >= history_tags.at`,
      key, tag.value ? 1 : 0, tag.at, tag.value ? NEVER : expires,
    );
  }

  /** One more violation for a key. */
  async penalize(update: PenaltyUpdate): Promise<PenaltyState> {
    const { state, expiresAt } = escalate(this.storedPenalty(update.key, Date.now()), update.now, update.policy);
    this.sql.exec(
      `INSERT INTO penalties (key, level, until, expires) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET level = excluded.level, until = excluded.until, expires = excluded.expires`,
      update.key, state.level, state.until, expiresAt,
    );
    await this.ensureSweep();
    return state;
  }

  /** Add to tallies once per event key; false when the event was already counted. */
  async tally(experiment: string, fields: readonly (readonly [string, number])[], eventKey: string | null, now: number): Promise<boolean> {
    const alive = Date.now();
    if (eventKey !== null) {
      const seen = this.sql.exec("SELECT 1 FROM tally_events WHERE key = ? AND expires > ?", eventKey, alive).toArray();
      if (seen.length > 0) return false;
      this.sql.exec(
        "INSERT INTO tally_events (key, expires) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires = excluded.expires",
        eventKey, now + TALLY_EVENT_TTL_MS,
      );
    }
    for (const [field, amount] of fields) {
      this.sql.exec(
        `INSERT INTO tallies (experiment, field, value) VALUES (?, ?, ?)
         ON CONFLICT (experiment, field) DO UPDATE SET value = value + excluded.value`,
        experiment, field, amount,
      );
    }
    await this.ensureSweep();
    return true;
  }

  /** Every tally row of an experiment. */
  async readTallies(experiment: string): Promise<TallyRow[]> {
    return this.sql
      .exec<{ field: string; value: number }>("SELECT field, value FROM tallies WHERE experiment = ?", experiment)
      .toArray()
      .flatMap((row) => {
        const parsed = parseTallyField(row.field);
        return parsed === null ? [] : [{ ...parsed, value: row.value }];
      });
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const table of EXPIRING) this.sql.exec(`DELETE FROM ${table} WHERE expires <= ?`, now);
    await this.ctx.storage.setAlarm(now + SWEEP_EVERY_MS);
  }

  private count(key: string, bucket: number, alive: number): number {
    const row = this.sql
      .exec<{ n: number }>("SELECT n FROM hits WHERE key = ? AND bucket = ? AND expires > ?", key, bucket, alive)
      .toArray()[0];
    return row?.n ?? 0;
  }

  private increment(key: string, bucket: number, expires: number, alive: number): number {
    return this.sql
      .exec<{ n: number }>(
        `INSERT INTO hits (key, bucket, n, expires) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (key, bucket) DO UPDATE SET n = CASE WHEN expires > ?4 THEN n + 1 ELSE 1 END, expires = ?3
         RETURNING n`,
        key, bucket, expires, alive,
      )
      .one().n;
  }

  private hit(now: number, alive: number, { key, windowMs }: WindowHit): number {
    const scoped = `${key}:${windowMs}`;
    const bucket = bucketOf(now, windowMs);
    const current = this.increment(scoped, bucket, bucketExpiresAt(bucket, windowMs), alive);
    return slidingCount(now, windowMs, current, this.count(scoped, bucket - 1, alive));
  }

  private limit(now: number, alive: number, check: RateLimitCheck): RateLimitResult {
    const key = `${rateLimitPrefix(check)}:${check.key}`;
    const bucket = bucketOf(now, check.windowMs);
    const current = this.count(key, bucket, alive);
    const decision = rateLimitDecision(now, check.limit, check.windowMs, current, this.count(key, bucket - 1, alive));
    if (decision.consume) this.increment(key, bucket, bucketExpiresAt(bucket, check.windowMs), alive);
    return decision.result;
  }

  private add(now: number, alive: number, { key, member, windowMs }: DistinctAdd): number {
    const bucket = bucketOf(now, windowMs);
    const scoped = `${key}:${windowMs}`;
    const expires = bucketExpiresAt(bucket, windowMs);
    this.sql.exec("DELETE FROM members WHERE key = ? AND bucket = ? AND expires <= ?", scoped, bucket, alive);
    const size = this.sql
      .exec<{ c: number }>("SELECT count(*) AS c FROM members WHERE key = ? AND bucket = ?", scoped, bucket)
      .one().c;
    if (size < DISTINCT_CAP) {
      this.sql.exec(
        `INSERT INTO members (key, bucket, member, expires) VALUES (?, ?, ?, ?)
         ON CONFLICT (key, bucket, member) DO UPDATE SET expires = excluded.expires`,
        scoped, bucket, member, expires,
      );
    }
    // Distinct over the current and previous bucket, as PFCOUNT of both keys does on Redis.
    return this.sql
      .exec<{ c: number }>(
        "SELECT count(DISTINCT member) AS c FROM members WHERE key = ? AND bucket IN (?, ?) AND expires > ?",
        scoped, bucket, bucket - 1, alive,
      )
      .one().c;
  }

  private storedPenalty(key: string, alive: number): StoredPenalty | null {
    const row = this.sql
      .exec<{ level: number; until: number }>("SELECT level, until FROM penalties WHERE key = ? AND expires > ?", key, alive)
      .toArray()[0];
    return row === undefined ? null : { level: row.level, until: row.until };
  }

  private readHistory(key: string, alive: number): AccountHistory | null {
    const items = this.sql
      .exec<{ kind: string; value: string }>(
        "SELECT kind, value FROM history_items WHERE key = ? AND expires > ? ORDER BY at DESC, value DESC",
        key, alive,
      )
      .toArray();
    const last = this.sql
      .exec<{ lat: number; lon: number; at: number }>(
        "SELECT lat, lon, at FROM history_last WHERE key = ? AND expires > ?", key, alive,
      )
      .toArray()[0];
    const tag = this.sql
      .exec<{ privileged: number }>("SELECT privileged FROM history_tags WHERE key = ? AND expires > ?", key, alive)
      .toArray()[0];
    const privileged = tag?.privileged === 1;
    if (items.length === 0 && last === undefined && !privileged) return null;
    const of = (kind: string) => items.filter((i) => i.kind === kind).map((i) => i.value).slice(0, HISTORY_LIMIT);
    return {
      devices: of("device"),
      countries: of("country"),
      asns: of("asn").map(Number),
      lastVerified: last === undefined ? null : { lat: last.lat, lon: last.lon, at: last.at },
      privileged,
    };
  }

  /**
   * Make sure the sweep alarm is set: read once per object lifetime, then remembered (the
   * alarm handler sets the next one itself). Reading the alarm on every call was a storage
   * round trip per reset.
   */
  private async ensureSweep(): Promise<void> {
    if (this.sweepScheduled) return;
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
    }
    this.sweepScheduled = true;
  }
}
