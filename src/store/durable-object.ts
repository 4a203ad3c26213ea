/**
 * The embedded default store: a SQLite-backed Durable Object. Strongly consistent per
 * key (one object owns each shard) and persistent across restarts of `npm start`.
 *
 * Sharding: a key belongs to shard `fnv1a(key) % shards`. One request sends one RPC
 * per distinct shard it touches, in parallel; with the default of one shard that is one
 * subrequest per reset request. More shards spread load at the price of more
 * subrequests (see docs/store.md).
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import type {
  AccountHistory,
  DistinctAdd,
  HistoryUpdate,
  ObserveRequest,
  ObserveResult,
  Store,
  WindowHit,
} from "./port.ts";
import { HISTORY_LIMIT, StoreError, withTimeout } from "./port.ts";
import { bucketOf, bucketTtlMs, slidingCount } from "./window.ts";

/** Distinct members kept per bucket; beyond this the count saturates at the cap. */
const DISTINCT_CAP = 10_000;
const SWEEP_EVERY_MS = 60_000;

interface ShardBatch {
  now: number;
  hits: WindowHit[];
  distinct: DistinctAdd[];
  historyKey: string | null;
}

interface ShardResult {
  counts: number[];
  distinct: number[];
  history: AccountHistory | null;
}

/** The Durable Object class that owns one shard of keys. */
export class RiskgateStore extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS hits (key TEXT, bucket INTEGER, n INTEGER, expires INTEGER, PRIMARY KEY (key, bucket));
      CREATE TABLE IF NOT EXISTS members (key TEXT, bucket INTEGER, member TEXT, expires INTEGER, PRIMARY KEY (key, bucket, member));
      CREATE TABLE IF NOT EXISTS history (key TEXT PRIMARY KEY, body TEXT);
      CREATE INDEX IF NOT EXISTS hits_expires ON hits (expires);
      CREATE INDEX IF NOT EXISTS members_expires ON members (expires);
    `);
  }

  /** Apply one request's operations for this shard; single-threaded, so no lost counts. */
  async observe(batch: ShardBatch): Promise<ShardResult> {
    const counts = batch.hits.map((hit) => this.hit(batch.now, hit));
    const distinct = batch.distinct.map((add) => this.add(batch.now, add));
    const history = batch.historyKey === null ? null : this.readHistory(batch.historyKey);
    await this.ensureSweep();
    return { counts, distinct, history };
  }

  /** Merge a confirmed outcome into the account's history. */
  async recordHistory(update: HistoryUpdate): Promise<void> {
    const current = this.readHistory(update.historyKey) ?? emptyHistory();
    const next = mergeHistory(current, update);
    this.sql.exec(
      "INSERT INTO history (key, body) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET body = excluded.body",
      update.historyKey,
      JSON.stringify(next),
    );
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.sql.exec("DELETE FROM hits WHERE expires <= ?", now);
    this.sql.exec("DELETE FROM members WHERE expires <= ?", now);
    await this.ctx.storage.setAlarm(now + SWEEP_EVERY_MS);
  }

  private hit(now: number, { key, windowMs }: WindowHit): number {
    const bucket = bucketOf(now, windowMs);
    const expires = (bucket + 1) * windowMs + bucketTtlMs(windowMs);
    const row = this.sql
      .exec<{ n: number }>(
        "INSERT INTO hits (key, bucket, n, expires) VALUES (?, ?, 1, ?) ON CONFLICT (key, bucket) DO UPDATE SET n = n + 1 RETURNING n",
        `${key}:${windowMs}`,
        bucket,
        expires,
      )
      .one();
    const previous = this.sql
      .exec<{ n: number }>("SELECT n FROM hits WHERE key = ? AND bucket = ?", `${key}:${windowMs}`, bucket - 1)
      .toArray()[0];
    return slidingCount(now, windowMs, row.n, previous?.n ?? 0);
  }

  private add(now: number, { key, member, windowMs }: DistinctAdd): number {
    const bucket = bucketOf(now, windowMs);
    const scoped = `${key}:${windowMs}`;
    const expires = (bucket + 1) * windowMs + bucketTtlMs(windowMs);
    const size = this.sql
      .exec<{ c: number }>("SELECT count(*) AS c FROM members WHERE key = ? AND bucket = ?", scoped, bucket)
      .one().c;
    if (size < DISTINCT_CAP) {
      this.sql.exec(
        "INSERT OR IGNORE INTO members (key, bucket, member, expires) VALUES (?, ?, ?, ?)",
        scoped,
        bucket,
        member,
        expires,
      );
    }
    // Distinct over the current and previous bucket, as PFCOUNT of both keys does on Redis.
    return this.sql
      .exec<{ c: number }>(
        "SELECT count(DISTINCT member) AS c FROM members WHERE key = ? AND bucket IN (?, ?)",
        scoped,
        bucket,
        bucket - 1,
      )
      .one().c;
  }

  private readHistory(key: string): AccountHistory | null {
    const row = this.sql.exec<{ body: string }>("SELECT body FROM history WHERE key = ?", key).toArray()[0];
    return row === undefined ? null : (JSON.parse(row.body) as AccountHistory);
  }

  private async ensureSweep(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
    }
  }
}

function emptyHistory(): AccountHistory {
  return { devices: [], countries: [], asns: [], lastVerified: null };
}

/** Add a value at the front, de-duplicated, keeping the newest `HISTORY_LIMIT`. */
function remember<T>(list: readonly T[], value: T | null): T[] {
  if (value === null) return [...list];
  return [value, ...list.filter((v) => v !== value)].slice(0, HISTORY_LIMIT);
}

/** Outcome event ids remembered per account for idempotency. */
const EVENT_LIMIT = 50;

/** Pure history merge, shared with the Upstash adapter. A repeated event id changes nothing. */
export function mergeHistory(current: AccountHistory, update: HistoryUpdate): AccountHistory {
  const events = current.events ?? [];
  if (update.eventId !== undefined && events.includes(update.eventId)) return current;
  // An outcome delivered late must not move the last verified location back in time.
  const newer = current.lastVerified === null || update.at >= current.lastVerified.at;
  return {
    devices: remember(current.devices, update.device),
    countries: remember(current.countries, update.country),
    asns: remember(current.asns, update.asn),
    lastVerified:
      update.location === null || !newer ? current.lastVerified : { ...update.location, at: update.at },
    events: update.eventId === undefined ? events : [update.eventId, ...events].slice(0, EVENT_LIMIT),
  };
}

/** FNV-1a, 32 bit: cheap, stable shard assignment. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Options for the Durable Object adapter. */
export interface DurableObjectStoreOptions {
  readonly namespace: DurableObjectNamespace<RiskgateStore>;
  readonly shards?: number;
  readonly timeoutMs: number;
}

/** The adapter: groups a request's operations by shard, one RPC per shard. */
export class DurableObjectStore implements Store {
  readonly name = "durable-object";
  private readonly namespace: DurableObjectNamespace<RiskgateStore>;
  private readonly shards: number;
  private readonly timeoutMs: number;

  constructor({ namespace, shards = 1, timeoutMs }: DurableObjectStoreOptions) {
    if (!Number.isInteger(shards) || shards < 1) throw new Error("shards must be a positive integer");
    this.namespace = namespace;
    this.shards = shards;
    this.timeoutMs = timeoutMs;
  }

  async observe(request: ObserveRequest): Promise<ObserveResult> {
    const batches = new Map<number, ShardBatch & { hitIdx: number[]; distinctIdx: number[] }>();
    const batchFor = (key: string) => {
      const shard = this.shardOf(key);
      let batch = batches.get(shard);
      if (batch === undefined) {
        batch = { now: request.now, hits: [], distinct: [], historyKey: null, hitIdx: [], distinctIdx: [] };
        batches.set(shard, batch);
      }
      return batch;
    };
    request.hits.forEach((hit, i) => {
      const b = batchFor(hit.key);
      b.hits.push(hit);
      b.hitIdx.push(i);
    });
    request.distinct.forEach((add, i) => {
      const b = batchFor(add.key);
      b.distinct.push(add);
      b.distinctIdx.push(i);
    });
    if (request.historyKey !== null) batchFor(request.historyKey).historyKey = request.historyKey;

    const counts = new Array<number>(request.hits.length).fill(0);
    const distinct = new Array<number>(request.distinct.length).fill(0);
    let history: AccountHistory | null = null;
    await this.call("observe", async () => {
      await Promise.all(
        [...batches].map(async ([shard, { hitIdx, distinctIdx, ...batch }]) => {
          const result = await this.stub(shard).observe(batch);
          result.counts.forEach((n, j) => {
            counts[hitIdx[j] ?? 0] = n;
          });
          result.distinct.forEach((n, j) => {
            distinct[distinctIdx[j] ?? 0] = n;
          });
          if (result.history !== null) history = result.history;
        }),
      );
    });
    return { counts, distinct, history };
  }

  async recordHistory(update: HistoryUpdate): Promise<void> {
    await this.call("recordHistory", () => this.stub(this.shardOf(update.historyKey)).recordHistory(update));
  }

  private shardOf(key: string): number {
    return this.shards === 1 ? 0 : fnv1a(key) % this.shards;
  }

  private stub(shard: number): DurableObjectStub<RiskgateStore> {
    return this.namespace.get(this.namespace.idFromName(`shard-${shard}`));
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(work(), this.timeoutMs, `durable-object ${what}`);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError("STORE_UNAVAILABLE", `durable-object ${what} failed`, { cause: err });
    }
  }
}
