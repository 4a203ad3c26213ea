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
  HistoryUpdate,
  PenaltyLift,
  PenaltyState,
  RosterAnswer,
  RosterStatus,
  RosterUpdate,
  PenaltyUpdate,
  PrivilegedTag,
  TallyRow,
} from "./port.ts";
import { HISTORY_LIMIT, HISTORY_RETENTION_MS, TALLY_EVENT_TTL_MS } from "./port.ts";
import { rateLimitPrefix } from "./ephemeral.ts";
import { bucketExpiresAt, bucketOf, rateLimitRemaining, slidingCount } from "./window.ts";
import { parseTallyField } from "./tally.ts";
import { KeyFilter } from "./key-filter.ts";
import { HASH_SEED, hashChars, isRowKey, rowKeyHash, slotOf } from "./counter-slot.ts";
import type { WireBatch, WireResult } from "./shard-wire.ts";

/** Distinct members kept per bucket; beyond this the count saturates at the cap. */
const DISTINCT_CAP = 10_000;
const SWEEP_EVERY_MS = 60_000;
/** Write-behind: counters changed in memory reach SQLite at most this long after the change. */
export const FLUSH_EVERY_MS = 1_000;
/** Counter rows (window buckets + distinct-set members) a shard keeps, memory and SQLite alike. */
export const COUNTER_ROW_CAP = 200_000;
/** Penalty boxes a shard keeps; apart from counters, so a flood of new keys cannot evict them. */
export const PENALTY_ROW_CAP = 50_000;
/** History rows (items, last location, cleared tags) a shard keeps; set privileged tags are never evicted. */
export const HISTORY_ROW_CAP = 500_000;
/** Tally de-duplication ids a shard keeps. */
export const TALLY_EVENT_CAP = 200_000;
/** Share of a cap at which the shard logs `riskgate.store_near_cap`. */
const NEAR_CAP = 0.8;
/**
 * Share of a cap freed by one eviction pass: a shard over a cap evicts down to 95 % of it.
 * Each pass walks the Map from its oldest end, over every entry deleted since V8 last
 * rehashed the table; evicting one request's worth at a time paid that walk on every
 * request at the cap (~150 µs per request at a 100 000-row cap in a Node micro-benchmark,
 * ~30 µs with the slack).
 */
const EVICT_SLACK = 0.05;
const HISTORY_KINDS = ["device", "country", "asn"] as const;

/** A shard's limits; a test may lower them on one object (`runInDurableObject`). */
export interface ShardCaps {
  counterRows: number;
  penaltyRows: number;
  historyRows: number;
  tallyEvents: number;
}

/** What a shard holds, for the near-cap log line and for tests. */
export interface ShardStats {
  readonly counterRows: number;
  readonly penaltyRows: number;
  readonly caps: ShardCaps;
  /** Rows evicted to stay under a cap since the object started. */
  readonly evicted: number;
  readonly dirty: number;
  readonly databaseSize: number;
}

/**
 * What every counter entry carries for the bookkeeping: flags instead of moving the
 * entry in the Map or adding its id to a set on every request (the Map holds up to
 * `COUNTER_ROW_CAP` entries; each delete-and-set left a hole and made V8 rehash it).
 * One small integer (`USED`, `DIRTY`, `DEAD`), not three booleans: 8 bytes less per entry.
 */
interface EntryFlags {
  flags: number;
}
/** Touched since it was last placed at the newest end (second chance on eviction). */
const USED = 1;
/** Queued in `dirty` for the next flush. */
const DIRTY = 2;
/** No longer in memory: evicted, expired or lifted (the flush skips it). */
const DEAD = 4;

/**
 * Where a counter entry is in memory: its key in `counters` is its slot (a 30-bit hash of
 * its kind, row key and bucket, `slotOf`; not stored: the walks have it, the rare other
 * paths hash the key again), `key` and `bucket` are its row's as written to SQLite. The Map is keyed by the number, not by a ~120-character string built per lookup:
 * a lookup hashes the request's key once and builds no string (BENCHMARKS.md, "The Durable
 * Object's keys"). Two entries with one slot: the second goes to `collided`.
 */
interface EntryPlace {
  /** The row's key: `<key>:<windowMs>` (window buckets, distinct sets) or the rate-limit key. */
  readonly key: string;
  readonly bucket: number;
}

/** One window bucket's count; `id` is its row in `counter_hits`. */
interface HitEntry extends EntryFlags, EntryPlace {
  readonly kind: "h";
  readonly id: number;
  n: number;
  readonly expires: number;
}

/**
 * One distinct set's bucket; `fresh` are members not yet in SQLite. `ids` are the members'
 * rows in `counter_members`, in the order they were added (the last `fresh.length` are new).
 */
interface SetEntry extends EntryFlags, EntryPlace {
  readonly kind: "m";
  /** The members' row ids as `members` holds them: the one id until a second member, then an array. */
  ids: number | number[];
  /**
   * The members: the one member itself until a second arrives, then a Set. Most sets of a
   * flood of new keys never get a second member; a one-member Set is two more heap objects
   * (the Set and its hash table) for every major GC to mark (BENCHMARKS.md, "The Durable
   * Object's garbage").
   */
  members: string | Set<string>;
  fresh: string[];
  readonly expires: number;
}

interface PenaltyEntry {
  readonly level: number;
  readonly until: number;
  readonly expires: number;
}

// `history (key, body)` was the first layout (one JSON blob per account); its rows are
// replaced by history_items/history_last, which keep per-value times like Redis's sorted sets.
// Counter rows are keyed by an id the object assigns (ascending), not by (key, bucket): the
// object finds them in memory, and a flush of new keys then appends to SQLite's B-trees
// instead of inserting at random places of a text index (`migrateCounters` moves the
// first layout's `hits` and `members` rows over).
const SCHEMA = `
  DROP TABLE IF EXISTS history;
  CREATE TABLE IF NOT EXISTS counter_hits (id INTEGER PRIMARY KEY, key TEXT, bucket INTEGER, n INTEGER, expires INTEGER);
  CREATE TABLE IF NOT EXISTS counter_members (id INTEGER PRIMARY KEY, key TEXT, bucket INTEGER, member TEXT, expires INTEGER);
  CREATE TABLE IF NOT EXISTS history_items (key TEXT, kind TEXT, value TEXT, at INTEGER, expires INTEGER, PRIMARY KEY (key, kind, value));
  CREATE TABLE IF NOT EXISTS history_last (key TEXT PRIMARY KEY, lat REAL, lon REAL, at INTEGER, expires INTEGER);
  CREATE TABLE IF NOT EXISTS history_tags (key TEXT PRIMARY KEY, privileged INTEGER, at INTEGER, expires INTEGER);
  CREATE TABLE IF NOT EXISTS penalties (key TEXT PRIMARY KEY, level INTEGER, until INTEGER, expires INTEGER);
  CREATE TABLE IF NOT EXISTS tallies (experiment TEXT, field TEXT, value INTEGER, PRIMARY KEY (experiment, field));
  CREATE TABLE IF NOT EXISTS tally_events (key TEXT PRIMARY KEY, expires INTEGER);
  CREATE TABLE IF NOT EXISTS roster (key TEXT PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS roster_state (id INTEGER PRIMARY KEY CHECK (id = 0), loaded_at INTEGER);
  CREATE INDEX IF NOT EXISTS counter_hits_expires ON counter_hits (expires);
  CREATE INDEX IF NOT EXISTS counter_members_expires ON counter_members (expires);
  CREATE INDEX IF NOT EXISTS history_items_expires ON history_items (expires);
`;
const EXPIRING = ["counter_hits", "counter_members", "history_items", "history_last", "history_tags", "penalties", "tally_events"] as const;
/** The `expires` of a set privileged tag: it lasts until the origin clears it. */
const NEVER = Number.MAX_SAFE_INTEGER;

/** The Durable Object class that owns one shard of keys. */
export class RiskgateStore extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Limits of this shard (see the `*_CAP` constants). */
  caps: ShardCaps = {
    counterRows: COUNTER_ROW_CAP,
    penaltyRows: PENALTY_ROW_CAP,
    historyRows: HISTORY_ROW_CAP,
    tallyEvents: TALLY_EVENT_CAP,
  };
  /**
   * Window buckets and distinct sets, oldest placed first (Map order). A touch only sets
   * `used`; eviction gives a used entry a second chance (moves it to the newest end, clears
   * the flag), so the least recently touched go first, as with moving on every touch.
   */
  private readonly counters = new Map<number, HitEntry | SetEntry>();
  /**
   * Entries whose slot another entry already held when they were placed, by slot (a
   * 30-bit hash: a few at a 200,000-row cap). Checked only when `counters` has no match.
   */
  private readonly collided = new Map<number, Array<HitEntry | SetEntry>>();
  /** Rows `counters` stands for: one per window bucket, one per distinct member. */
  private counterRows = 0;
  private readonly penalties = new Map<string, PenaltyEntry>();
  /** Counter entries changed since the last flush (each once: `dirty` flag). */
  private readonly dirty: Array<HitEntry | SetEntry> = [];
  private readonly dirtyPenalties = new Set<string>();
  /** Rows evicted from memory (or lifted) that the next flush deletes from SQLite: counter row ids, penalty keys. */
  private readonly goneHits: number[] = [];
  private readonly goneMembers: number[] = [];
  private readonly gonePenalties: string[] = [];
  /** The next counter row id (`counter_hits`, `counter_members`): above every id in SQLite. */
  private nextRowId = 1;
  private evicted = 0;
  /** True once an alarm is known to be set for the next flush or sweep. */
  private alarmAt: number | null = null;
  private lastSweep = 0;
  private nearCapLogged = 0;
  /** Accounts that may have history rows: a reset for one that has none reads no SQL. */
  private readonly historyKeys = new KeyFilter();
  /** The roster marker (`roster_state.loaded_at`), mirrored: null while no roster is loaded. */
  private rosterLoadedAt: number | null = null;
  /** Keys that may be on the roster (never cleared on remove): a lookup the filter rules out reads no SQL. */
  private readonly rosterKeys = new KeyFilter();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    this.migrateCounters();
    this.load();
  }

  /**
   * Apply one request's operations for this shard (`packBatch`; answers for `unpackResult`);
   * single-threaded, so no lost counts.
   */
  async observe(batch: WireBatch): Promise<WireResult> {
    const alive = Date.now();
    const { now, keys, members, numbers: n } = batch;
    const [hits, distinct, limits, penalties] = batch.sizes;
    // Filled by push, not sized up front: an array made by `new Array(n)` stays holey, and
    // the RPC's structured clone writes a holey array as a sparse one, index by index.
    const out: number[] = [];
    let k = 0;
    let i = 0;
    for (let j = 0; j < hits; j++) out.push(this.hit(now, alive, keys[k++] ?? "", n[i++] ?? 0));
    for (let j = 0; j < distinct; j++) out.push(this.add(now, alive, keys[k++] ?? "", members[j] ?? "", n[i++] ?? 0));
    for (let j = 0; j < limits; j++) {
      const limit = n[i++] ?? 0;
      this.limit(now, alive, keys[k++] ?? "", limit, n[i++] ?? 0, out);
    }
    for (let j = 0; j < penalties; j++) {
      const policy = { baseMs: n[i++] ?? 0, factor: n[i++] ?? 0, maxMs: n[i++] ?? 0, decayMs: n[i++] ?? 0 };
      const state = readPenalty(this.storedPenalty(keys[k++] ?? "", alive), now, policy);
      out.push(state.level, state.until);
    }
    const result: WireResult = {
      numbers: out,
      history: batch.historyKey === null ? null : this.readHistory(batch.historyKey, alive),
      roster: batch.rosterKey === null ? null : this.readRoster(batch.rosterKey),
    };
    this.evict();
    await this.scheduleFlush();
    return result;
  }

  /** Merge a confirmed outcome into the account's history (newest `HISTORY_LIMIT` per kind); written through. */
  async recordHistory(update: HistoryUpdate): Promise<void> {
    const expires = update.at + HISTORY_RETENTION_MS;
    this.historyKeys.add(update.historyKey);
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
    // Any update keeps the whole history alive for another retention period; an older
    // outcome arriving late never brings the expiry forward.
    this.sql.exec("UPDATE history_items SET expires = max(expires, ?) WHERE key = ?", expires, update.historyKey);
    this.sql.exec("UPDATE history_last SET expires = max(expires, ?) WHERE key = ?", expires, update.historyKey);
    this.sql.exec("UPDATE history_tags SET expires = max(expires, ?) WHERE key = ? AND privileged = 0", expires, update.historyKey);
    await this.scheduleSweep();
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
    const alive = Date.now();
    const { state, expiresAt } = escalate(this.storedPenalty(update.key, alive), update.now, update.policy);
    this.penalties.delete(update.key);
    if (expiresAt > alive) {
      this.penalties.set(update.key, { level: state.level, until: state.until, expires: expiresAt });
      this.dirtyPenalties.add(update.key);
    } else {
      this.gonePenalties.push(update.key);
    }
    this.evict();
    await this.scheduleFlush();
    return state;
  }

  /** Lift penalty boxes: forget the boxes and the rate-limit windows of this shard's keys; how many were boxed. */
  async liftPenalty(lift: PenaltyLift): Promise<number> {
    const alive = Date.now();
    let boxed = 0;
    for (const key of lift.penalties) {
      if ((this.storedPenalty(key, alive)?.until ?? 0) > lift.now) boxed++;
      if (this.penalties.delete(key)) {
        this.dirtyPenalties.delete(key);
        this.gonePenalties.push(key);
      }
    }
    for (const check of lift.limits) {
      const prefix = rateLimitPrefix(check);
      const hash = rowKeyHash(prefix, check.key);
      const bucket = bucketOf(lift.now, check.windowMs);
      for (const b of [bucket, bucket - 1]) {
        const entry = this.find("h", hash, prefix, check.key, b);
        if (entry === undefined) continue;
        this.drop(entry);
        this.counterRows--;
        if (entry.kind === "h") this.goneHits.push(entry.id);
      }
    }
    await this.scheduleFlush();
    return boxed;
  }

  /** Add to tallies once per event key; false when the event was already counted. Written through. */
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
    await this.scheduleSweep();
    return true;
  }

  /**
   * The origin's roster statement for the keys on this shard, in one transaction: adds,
   * removes, then the marker (`loaded` null leaves it). Roster rows never expire and are
   * not under the shard's caps: they are what the origin says exists (docs/store.md).
   */
  async updateRoster(update: RosterUpdate): Promise<RosterStatus> {
    this.ctx.storage.transactionSync(() => {
      for (const key of update.add) this.sql.exec("INSERT OR IGNORE INTO roster (key) VALUES (?)", key);
      for (const key of update.remove) this.sql.exec("DELETE FROM roster WHERE key = ?", key);
      if (update.loaded === true) {
        this.sql.exec("INSERT INTO roster_state (id, loaded_at) VALUES (0, ?) ON CONFLICT (id) DO UPDATE SET loaded_at = excluded.loaded_at", update.at);
      } else if (update.loaded === false) {
        this.sql.exec("DELETE FROM roster_state");
      }
    });
    for (const key of update.add) this.rosterKeys.add(key);
    this.rosterLoadedAt = this.readRosterMarker();
    return { loaded: this.rosterLoadedAt !== null, loadedAt: this.rosterLoadedAt };
  }

  private readRosterMarker(): number | null {
    return this.sql.exec<{ loaded_at: number }>("SELECT loaded_at FROM roster_state WHERE id = 0").toArray()[0]?.loaded_at ?? null;
  }

  /**
   * `off` until a roster is loaded on this shard, then whether it holds the key. The marker
   * is mirrored in memory and a filter rules out most absent keys, so only a key that may
   * be listed reads SQL (one statement).
   */
  private readRoster(key: string): RosterAnswer {
    if (this.rosterLoadedAt === null) return "off";
    if (!this.rosterKeys.mightHave(key)) return "absent";
    const listed = this.sql.exec<{ listed: number }>("SELECT EXISTS (SELECT 1 FROM roster WHERE key = ?) AS listed", key).one().listed;
    return listed === 1 ? "listed" : "absent";
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

  /** What the shard holds (rows against caps, evictions, SQLite size). */
  async stats(): Promise<ShardStats> {
    return {
      counterRows: this.counterRows,
      penaltyRows: this.penalties.size,
      caps: { ...this.caps },
      evicted: this.evicted,
      dirty: this.dirty.length + this.dirtyPenalties.size,
      databaseSize: this.sql.databaseSize,
    };
  }

  /** Flush the write-behind counters; every `SWEEP_EVERY_MS` also reclaim expired rows and enforce the caps. */
  override async alarm(): Promise<void> {
    // Forget the alarm being run: if this handler throws, the next call asks storage again.
    this.alarmAt = null;
    this.flush();
    const now = Date.now();
    if (now - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = now;
      this.sweep(now);
    }
    // The alarm that is running is spent: set the next one outright (flush or sweep, whichever first).
    const pending = this.pending();
    const next = pending ? Date.now() + FLUSH_EVERY_MS : this.lastSweep + SWEEP_EVERY_MS;
    await this.ctx.storage.setAlarm(next);
    this.alarmAt = next;
  }

  /**
   * The first layout kept counters in `hits` and `members`, keyed by (key, bucket[, member]):
   * move their live rows to the id-keyed tables, once, in one transaction.
   */
  private migrateCounters(): void {
    const old = new Set(
      this.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('hits', 'members')").toArray().map((r) => r.name),
    );
    if (old.size === 0) return;
    const alive = Date.now();
    this.ctx.storage.transactionSync(() => {
      if (old.has("hits")) {
        this.sql.exec("INSERT INTO counter_hits (key, bucket, n, expires) SELECT key, bucket, n, expires FROM hits WHERE expires > ? ORDER BY expires", alive);
        this.sql.exec("DROP TABLE hits");
      }
      if (old.has("members")) {
        this.sql.exec("INSERT INTO counter_members (key, bucket, member, expires) SELECT key, bucket, member, expires FROM members WHERE expires > ? ORDER BY expires", alive);
        this.sql.exec("DROP TABLE members");
      }
    });
  }

  /** Reload the live counters and penalty boxes a previous instance flushed (oldest first), which accounts have history, and the roster's marker and filter. */
  private load(): void {
    const alive = Date.now();
    this.nextRowId =
      this.sql.exec<{ id: number | null }>("SELECT max((SELECT max(id) FROM counter_hits), (SELECT max(id) FROM counter_members)) AS id").one().id ?? 0;
    this.nextRowId++;
    for (const row of this.sql.exec<{ id: number; key: string; bucket: number; n: number; expires: number }>(
      "SELECT id, key, bucket, n, expires FROM counter_hits WHERE expires > ? ORDER BY expires", alive,
    )) {
      const hash = hashChars(HASH_SEED, row.key);
      const twin = this.findRow("h", hash, row.key, row.bucket);
      if (twin !== undefined) {
        this.drop(twin);
        this.counterRows--;
      }
      const slot = slotOf("h", hash, row.bucket);
      this.keep({ flags: 0, kind: "h", id: row.id, key: row.key, bucket: row.bucket, n: row.n, expires: row.expires }, slot);
      this.counterRows++;
    }
    for (const row of this.sql.exec<{ id: number; key: string; bucket: number; member: string; expires: number }>(
      "SELECT id, key, bucket, member, expires FROM counter_members WHERE expires > ? ORDER BY expires", alive,
    )) {
      const hash = hashChars(HASH_SEED, row.key);
      let entry = this.findRow("m", hash, row.key, row.bucket) as SetEntry | undefined;
      if (entry === undefined) {
        const slot = slotOf("m", hash, row.bucket);
        entry = { flags: 0, kind: "m", ids: row.id, key: row.key, bucket: row.bucket, members: row.member, fresh: NO_MEMBERS, expires: row.expires };
        this.keep(entry, slot);
      } else {
        entry.members = withMember(entry.members, row.member);
        entry.ids = withId(entry.ids, row.id);
      }
      this.counterRows++;
    }
    for (const row of this.sql.exec<{ key: string; level: number; until: number; expires: number }>(
      "SELECT key, level, until, expires FROM penalties WHERE expires > ? ORDER BY expires", alive,
    )) {
      this.penalties.set(row.key, { level: row.level, until: row.until, expires: row.expires });
    }
    for (const row of this.sql.exec<{ key: string }>(
      "SELECT key FROM history_items UNION SELECT key FROM history_last UNION SELECT key FROM history_tags",
    )) {
      this.historyKeys.add(row.key);
    }
    this.rosterLoadedAt = this.readRosterMarker();
    for (const row of this.sql.exec<{ key: string }>("SELECT key FROM roster")) this.rosterKeys.add(row.key);
    this.evict();
  }

  /** Whether a flush has anything to write or delete. */
  private pending(): boolean {
    return this.dirty.length > 0 || this.dirtyPenalties.size > 0 || this.goneHits.length > 0 || this.goneMembers.length > 0 || this.gonePenalties.length > 0;
  }

  /** Write every changed counter and box to SQLite in one transaction, one statement per table. */
  private flush(): void {
    if (!this.pending()) return;
    const hits: unknown[][] = [];
    const members: unknown[][] = [];
    const boxes: unknown[][] = [];
    for (const entry of this.dirty) {
      if ((entry.flags & DEAD) !== 0) continue;
      const { key, bucket } = entry;
      if (entry.kind === "h") hits.push([entry.id, key, bucket, entry.n, entry.expires]);
      else {
        const ids = entry.ids;
        if (typeof ids === "number") {
          // One member: it is the fresh one, if any.
          if (entry.fresh.length === 1) members.push([ids, key, bucket, entry.fresh[0], entry.expires]);
        } else {
          const first = ids.length - entry.fresh.length;
          for (let i = 0; i < entry.fresh.length; i++) members.push([ids[first + i], key, bucket, entry.fresh[i], entry.expires]);
        }
        entry.fresh = NO_MEMBERS;
      }
    }
    for (const key of this.dirtyPenalties) {
      const box = this.penalties.get(key);
      if (box !== undefined) boxes.push([key, box.level, box.until, box.expires]);
    }
    this.ctx.storage.transactionSync(() => {
      this.deleteRows("counter_hits", "id", this.goneHits.splice(0));
      this.deleteRows("counter_members", "id", this.goneMembers.splice(0));
      this.deleteRows("penalties", "key", this.gonePenalties.splice(0));
      // A hit row's count changes in place; a member row never changes once written.
      this.insertRows("counter_hits", ["id", "key", "bucket", "n", "expires"], hits, "ON CONFLICT (id) DO UPDATE SET n = excluded.n, expires = excluded.expires");
      this.insertRows("counter_members", ["id", "key", "bucket", "member", "expires"], members, "ON CONFLICT (id) DO NOTHING");
      this.insertRows(
        "penalties",
        ["key", "level", "until", "expires"],
        boxes,
        "ON CONFLICT (key) DO UPDATE SET level = excluded.level, until = excluded.until, expires = excluded.expires",
      );
    });
    for (const entry of this.dirty) entry.flags &= ~DIRTY;
    this.dirty.length = 0;
    this.dirtyPenalties.clear();
  }

  /**
   * Insert rows (each an array of the columns' values) with one statement: the rows go as
   * one JSON parameter, so the statement's text is the same for any number of rows and
   * there is no limit of bound parameters to chunk by.
   */
  private insertRows(table: string, columns: readonly string[], rows: readonly unknown[][], conflict: string): void {
    if (rows.length === 0) return;
    const values = columns.map((_, i) => `json_extract(value, '$[${i}]')`).join(", ");
    // "WHERE true" keeps SQLite from reading ON CONFLICT as part of the join syntax.
    this.sql.exec(`INSERT INTO ${table} (${columns.join(", ")}) SELECT ${values} FROM json_each(?) WHERE true ${conflict}`, JSON.stringify(rows));
  }

  /** Delete rows by one column's values, with one statement. */
  private deleteRows(table: string, column: string, values: readonly unknown[]): void {
    if (values.length === 0) return;
    this.sql.exec(`DELETE FROM ${table} WHERE ${column} IN (SELECT value FROM json_each(?))`, JSON.stringify(values));
  }

  /** Drop expired rows from memory and SQLite, cap the write-through tables, log when near a cap. */
  private sweep(now: number): void {
    for (const [slot, entry] of this.counters) {
      if (entry.expires > now) continue;
      this.drop(entry, slot);
      this.counterRows -= entry.kind === "h" ? 1 : memberCount(entry.members);
    }
    for (const [slot, list] of [...this.collided]) {
      for (const entry of [...list]) {
        if (entry.expires > now) continue;
        this.drop(entry, slot);
        this.counterRows -= entry.kind === "h" ? 1 : memberCount(entry.members);
      }
    }
    for (const [key, box] of this.penalties) if (box.expires <= now) this.penalties.delete(key);
    for (const table of EXPIRING) this.sql.exec(`DELETE FROM ${table} WHERE expires <= ?`, now);
    // Write-through tables: the oldest rows go first once a table is over its cap.
    const history = this.rowCount("history_items") + this.rowCount("history_last") + this.rowCount("history_tags WHERE privileged = 0");
    let over = history - this.caps.historyRows;
    for (const table of ["history_items", "history_last"] as const) {
      if (over <= 0) break;
      const before = this.rowCount(table);
      this.sql.exec(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} ORDER BY at LIMIT ?)`, over);
      const dropped = before - this.rowCount(table);
      over -= dropped;
      this.evicted += dropped;
    }
    const events = this.rowCount("tally_events") - this.caps.tallyEvents;
    if (events > 0) {
      this.sql.exec("DELETE FROM tally_events WHERE rowid IN (SELECT rowid FROM tally_events ORDER BY expires LIMIT ?)", events);
      this.evicted += events;
    }
    const near = [
      ["counter", this.counterRows, this.caps.counterRows],
      ["penalty", this.penalties.size, this.caps.penaltyRows],
      ["history", history, this.caps.historyRows],
    ] as const;
    for (const [what, rows, cap] of near) {
      if (rows < cap * NEAR_CAP) continue;
      console.log(JSON.stringify({
        event: "riskgate.store_near_cap",
        shard: this.ctx.id.name ?? this.ctx.id.toString(),
        rows: what,
        count: rows,
        cap,
        evicted: this.evicted,
        databaseSize: this.sql.databaseSize,
      }));
    }
  }

  private rowCount(table: string): number {
    return this.sql.exec<{ c: number }>(`SELECT count(*) AS c FROM ${table}`).one().c;
  }

  /**
   * Over a cap, evict the least recently touched counters (and boxes) down to `EVICT_SLACK`
   * under it. A counter touched since it was placed is moved to the newest end instead
   * (its flag cleared): the walk visits it again only after every entry placed before it.
   */
  private evict(): void {
    let evicted = 0;
    const counterTarget = this.counterRows > this.caps.counterRows ? Math.floor(this.caps.counterRows * (1 - EVICT_SLACK)) : this.caps.counterRows;
    const penaltyTarget = this.penalties.size > this.caps.penaltyRows ? Math.floor(this.caps.penaltyRows * (1 - EVICT_SLACK)) : this.caps.penaltyRows;
    const alive = Date.now();
    // Under the caps no walk starts: even its first step skips every hole that deletes
    // left at the Map's oldest end (storedPenalty moves a box on every read).
    if (this.counterRows > this.caps.counterRows) for (const [slot, entry] of this.counters) {
      if (this.counterRows <= counterTarget) break;
      if ((entry.flags & USED) !== 0 && entry.expires > alive) {
        entry.flags &= ~USED;
        this.counters.delete(slot);
        this.counters.set(slot, entry);
        continue;
      }
      this.evictEntry(entry, slot);
      evicted++;
    }
    // The few collided entries go only when the Map's walk could not free enough.
    if (this.counterRows > counterTarget && this.collided.size > 0) {
      for (const [slot, list] of [...this.collided]) {
        for (const entry of [...list]) {
          if (this.counterRows <= counterTarget) break;
          this.evictEntry(entry, slot);
          evicted++;
        }
      }
    }
    if (this.penalties.size > this.caps.penaltyRows) for (const key of this.penalties.keys()) {
      if (this.penalties.size <= penaltyTarget) break;
      this.penalties.delete(key);
      this.dirtyPenalties.delete(key);
      this.gonePenalties.push(key);
      evicted++;
    }
    if (evicted > 0) {
      this.evicted += evicted;
      // Log the first eviction, then at most once per sweep interval.
      const now = Date.now();
      if (now - this.nearCapLogged >= SWEEP_EVERY_MS) {
        this.nearCapLogged = now;
        console.log(JSON.stringify({
          event: "riskgate.store_evicting",
          shard: this.ctx.id.name ?? this.ctx.id.toString(),
          counterRows: this.counterRows,
          penaltyRows: this.penalties.size,
          caps: this.caps,
          evicted: this.evicted,
        }));
      }
    }
  }

  /** An evicted counter leaves memory, and the next flush deletes its rows. */
  private evictEntry(entry: HitEntry | SetEntry, slot: number): void {
    this.drop(entry, slot);
    this.counterRows -= entry.kind === "h" ? 1 : memberCount(entry.members);
    if (entry.kind === "h") this.goneHits.push(entry.id);
    else if (typeof entry.ids === "number") this.goneMembers.push(entry.ids);
    else this.goneMembers.push(...entry.ids);
  }

  /**
   * The entry of kind `kind`, row key `a:b` (not built: `hash` is `rowKeyHash(a, b)`) and
   * `bucket`, live or expired; undefined when absent.
   */
  private find(kind: "h" | "m", hash: number, a: string, b: string, bucket: number): HitEntry | SetEntry | undefined {
    const entry = this.counters.get(slotOf(kind, hash, bucket));
    if (entry !== undefined && entry.kind === kind && entry.bucket === bucket && isRowKey(entry.key, a, b)) return entry;
    if (this.collided.size === 0) return undefined;
    const list = this.collided.get(slotOf(kind, hash, bucket));
    if (list !== undefined) for (const other of list) if (other.kind === kind && other.bucket === bucket && isRowKey(other.key, a, b)) return other;
    return undefined;
  }

  /** `find` for a row key held whole (`load`). */
  private findRow(kind: "h" | "m", hash: number, key: string, bucket: number): HitEntry | SetEntry | undefined {
    const slot = slotOf(kind, hash, bucket);
    const entry = this.counters.get(slot);
    if (entry !== undefined && entry.kind === kind && entry.bucket === bucket && entry.key === key) return entry;
    return this.collided.get(slot)?.find((other) => other.kind === kind && other.bucket === bucket && other.key === key);
  }

  /** Put a new entry in memory: in its slot, or among the collided when the slot is taken. */
  private keep(entry: HitEntry | SetEntry, slot: number): void {
    if (!this.counters.has(slot)) {
      this.counters.set(slot, entry);
      return;
    }
    const list = this.collided.get(slot);
    if (list === undefined) this.collided.set(slot, [entry]);
    else list.push(entry);
  }

  /** A live counter entry, marked used (see `counters`); undefined when absent or expired. */
  private touch<T extends HitEntry | SetEntry>(entry: HitEntry | SetEntry | undefined, alive: number): T | undefined {
    if (entry === undefined) return undefined;
    if (entry.expires <= alive) {
      this.drop(entry);
      this.counterRows -= entry.kind === "h" ? 1 : memberCount(entry.members);
      return undefined;
    }
    entry.flags |= USED;
    return entry as T;
  }

  /** Remove a counter entry from memory (the flush then skips it); `slot` is its key in `counters`. */
  private drop(entry: HitEntry | SetEntry, slot = slotOf(entry.kind, hashChars(HASH_SEED, entry.key), entry.bucket)): void {
    entry.flags |= DEAD;
    const list = this.collided.get(slot);
    if (this.counters.get(slot) === entry) {
      this.counters.delete(slot);
      // A collided entry takes the freed slot (at the Map's newest end): it is then evicted
      // by the walk like any other, not held until it expires.
      const next = list?.shift();
      if (next !== undefined) this.counters.set(slot, next);
    } else if (list !== undefined) {
      const at = list.indexOf(entry);
      if (at >= 0) list.splice(at, 1);
    }
    if (list !== undefined && list.length === 0) this.collided.delete(slot);
  }

  /** Queue a changed counter entry for the next flush, once. */
  private changed(entry: HitEntry | SetEntry): void {
    if ((entry.flags & DIRTY) !== 0) return;
    entry.flags |= DIRTY;
    this.dirty.push(entry);
  }

  private count(hash: number, a: string, b: string, bucket: number, alive: number): number {
    const entry = this.find("h", hash, a, b, bucket) as HitEntry | undefined;
    return entry !== undefined && entry.expires > alive ? entry.n : 0;
  }

  private increment(hash: number, a: string, b: string, bucket: number, expires: number, alive: number): number {
    const entry = this.find("h", hash, a, b, bucket) as HitEntry | undefined;
    if (entry !== undefined && entry.expires > alive) {
      entry.n++;
      entry.flags |= USED;
      this.changed(entry);
      return entry.n;
    }
    this.place(hash, `${a}:${b}`, bucket, entry, expires, alive);
    return 1;
  }

  /** A bucket's first hit: drop the expired entry it replaces, then keep a new one with a count of 1. */
  private place(hash: number, key: string, bucket: number, expired: HitEntry | undefined, expires: number, alive: number): void {
    if (expired !== undefined) {
      this.drop(expired);
      this.counterRows--;
    }
    // A bucket already dead by the object's clock counts once and is not kept (as SQL's dead row was ignored).
    if (expires <= alive) return;
    const created: HitEntry = {
      flags: 0, kind: "h", id: this.nextRowId++, key, bucket, n: 1, expires,
    };
    this.keep(created, slotOf("h", hash, bucket));
    this.counterRows++;
    this.changed(created);
  }

  private hit(now: number, alive: number, key: string, windowMs: number): number {
    const window = String(windowMs);
    const hash = rowKeyHash(key, window);
    const bucket = bucketOf(now, windowMs);
    const current = this.increment(hash, key, window, bucket, bucketExpiresAt(bucket, windowMs), alive);
    return slidingCount(now, windowMs, current, this.count(hash, key, window, bucket - 1, alive));
  }

  /** A rate-limit check, its answer pushed onto `out`: success (1 or 0), remaining, reset (no answer object). */
  private limit(now: number, alive: number, checkKey: string, limit: number, windowMs: number, out: number[]): void {
    const prefix = rateLimitPrefix({ limit, windowMs });
    const hash = rowKeyHash(prefix, checkKey);
    const bucket = bucketOf(now, windowMs);
    // The current bucket is looked up once, for the count and for consuming a unit.
    const entry = this.find("h", hash, prefix, checkKey, bucket) as HitEntry | undefined;
    const current = entry !== undefined && entry.expires > alive ? entry : undefined;
    const remaining = rateLimitRemaining(now, limit, windowMs, current?.n ?? 0, this.count(hash, prefix, checkKey, bucket - 1, alive));
    out.push(remaining < 0 ? 0 : 1, remaining < 0 ? 0 : remaining, (bucket + 1) * windowMs);
    if (remaining < 0) return;
    if (current !== undefined) {
      current.n++;
      current.flags |= USED;
      this.changed(current);
    } else {
      this.place(hash, `${prefix}:${checkKey}`, bucket, entry, bucketExpiresAt(bucket, windowMs), alive);
    }
  }

  private add(now: number, alive: number, key: string, member: string, windowMs: number): number {
    const bucket = bucketOf(now, windowMs);
    const window = String(windowMs);
    const hash = rowKeyHash(key, window);
    const expires = bucketExpiresAt(bucket, windowMs);
    let entry = this.touch<SetEntry>(this.find("m", hash, key, window, bucket), alive);
    if (entry === undefined && expires > alive) {
      // Created with its first member, held as itself (`members`, `ids`): most sets of a
      // flood of new keys never get a second member.
      entry = {
        flags: 0, kind: "m", ids: this.nextRowId++,
        key: `${key}:${window}`, bucket, members: member, fresh: [member], expires,
      };
      this.keep(entry, slotOf("m", hash, bucket));
      this.counterRows++;
      this.changed(entry);
    } else if (entry !== undefined && memberCount(entry.members) < DISTINCT_CAP && !hasMember(entry.members, member)) {
      entry.members = withMember(entry.members, member);
      entry.ids = withId(entry.ids, this.nextRowId++);
      if (entry.fresh === NO_MEMBERS) entry.fresh = [member];
      else entry.fresh.push(member);
      this.counterRows++;
      this.changed(entry);
    }
    // Distinct over the current and previous bucket, as PFCOUNT of both keys does on Redis.
    const previous = this.find("m", hash, key, window, bucket - 1) as SetEntry | undefined;
    const a = entry !== undefined && entry.expires > alive ? entry.members : EMPTY;
    if (previous === undefined || previous.expires <= alive) return memberCount(a);
    let union = memberCount(a);
    const before = previous.members;
    if (typeof before === "string") return hasMember(a, before) ? union : union + 1;
    for (const m of before) if (!hasMember(a, m)) union++;
    return union;
  }

  private storedPenalty(key: string, alive: number): StoredPenalty | null {
    const box = this.penalties.get(key);
    if (box === undefined || box.expires <= alive) return null;
    // Reading a box keeps it at the newest end: a key still being checked is evicted last.
    this.penalties.delete(key);
    this.penalties.set(key, box);
    return { level: box.level, until: box.until };
  }

  /** One statement: items, last location and tag of an account; none for an account the filter has never seen. */
  private readHistory(key: string, alive: number): AccountHistory | null {
    if (!this.historyKeys.mightHave(key)) return null;
    const rows = this.sql
      .exec<{ t: number; kind: string | null; value: string | number | null; lat: number | null; lon: number | null; at: number }>(
        `SELECT 0 AS t, kind, value, NULL AS lat, NULL AS lon, at FROM history_items WHERE key = ?1 AND expires > ?2
         UNION ALL SELECT 1, NULL, NULL, lat, lon, at FROM history_last WHERE key = ?1 AND expires > ?2
         UNION ALL SELECT 2, NULL, privileged, NULL, NULL, at FROM history_tags WHERE key = ?1 AND expires > ?2`,
        key, alive,
      )
      .toArray();
    const items = rows
      .filter((r) => r.t === 0)
      .map((r) => ({ kind: r.kind, value: String(r.value), at: r.at }))
      // ORDER BY at DESC, value DESC (SQLite's binary collation; the values are ASCII).
      .sort((x, y) => y.at - x.at || (x.value < y.value ? 1 : x.value > y.value ? -1 : 0));
    const last = rows.find((r) => r.t === 1);
    const privileged = rows.find((r) => r.t === 2)?.value === 1;
    if (items.length === 0 && last === undefined && !privileged) return null;
    const of = (kind: string) => items.filter((i) => i.kind === kind).map((i) => i.value).slice(0, HISTORY_LIMIT);
    return {
      devices: of("device"),
      countries: of("country"),
      asns: of("asn").map(Number),
      lastVerified: last === undefined ? null : { lat: last.lat ?? 0, lon: last.lon ?? 0, at: last.at },
      privileged,
    };
  }

  /** Changed counters reach SQLite within `FLUSH_EVERY_MS`: an alarm, set once per flush. */
  private async scheduleFlush(): Promise<void> {
    if (!this.pending()) return;
    await this.scheduleAlarm(Date.now() + FLUSH_EVERY_MS);
  }

  /** The sweep runs on the alarm; make sure one is set while the shard holds anything. */
  private async scheduleSweep(): Promise<void> {
    await this.scheduleAlarm(Math.max(Date.now(), this.lastSweep + SWEEP_EVERY_MS));
  }

  /**
   * Set the alarm no later than `at`. The instance remembers the alarm it set (the alarm
   * handler forgets it), so a busy shard touches the alarm once per flush, not per request.
   */
  private async scheduleAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    const current = this.alarmAt === null ? await this.ctx.storage.getAlarm() : this.alarmAt;
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
    this.alarmAt = current === null || current > at ? at : current;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
/** How many members a set's `members` holds. */
function memberCount(members: string | ReadonlySet<string>): number {
  return typeof members === "string" ? 1 : members.size;
}

function hasMember(members: string | ReadonlySet<string>, member: string): boolean {
  return typeof members === "string" ? members === member : members.has(member);
}

/** `members` with `member` added (a second member turns the one member into a Set). */
function withMember(members: string | Set<string>, member: string): string | Set<string> {
  if (typeof members !== "string") return members.add(member);
  return members === member ? members : new Set<string>().add(members).add(member);
}

/** `ids` with `id` appended (a second id turns the one id into an array). */
function withId(ids: number | number[], id: number): number | number[] {
  if (typeof ids === "number") return [ids, id];
  ids.push(id);
  return ids;
}

/** A set's `fresh` once flushed: shared, never pushed to (the next new member gets an array of its own). */
const NO_MEMBERS: string[] = Object.freeze([]) as unknown as string[];
