/**
 * The Durable Object adapter: groups a request's operations by shard and sends one RPC
 * per shard touched, in parallel.
 *
 * Sharding: a key belongs to shard `fnv1a(key) % shards`, and shard n is the object
 * named `shard-n`. With the default of one shard a reset request costs exactly one
 * subrequest; with S shards it costs one per distinct shard among its keys (at most
 * min(S, keys)); a request answered from the ephemeral block cache costs none.
 * docs/store.md has the numbers for the shipped rules.
 */
import {
  blockedResult,
  BlockCache,
  findCachedBlock,
  forgetBlocks,
  rememberBlocks,
} from "./ephemeral.ts";
import type { RiskgateStore } from "./durable-object.ts";
import { packBatch, type ShardBatch, type ShardResult, unpackResult } from "./shard-wire.ts";
import { checkPenaltyPolicy } from "./penalty.ts";
import type {
  CachedBlock,
  AccountHistory,
  DistinctAdd,
  HistoryUpdate,
  ObserveRequest,
  ObserveResult,
  PenaltyCheck,
  PenaltyLift,
  PenaltyState,
  PenaltyUpdate,
  RateLimitCheck,
  RosterAnswer,
  RosterStatus,
  RosterUpdate,
  Store,
  TallyRow,
  TallyUpdate,
  WindowHit,
} from "./port.ts";
import { STORE_TIMEOUT_GRACE_MS, StoreError, withTimeout } from "./port.ts";
import { checkTally, checkTallyName, sortTallies, tallyFields } from "./tally.ts";

/** The slice of a Durable Object namespace the adapter uses. */
export type StoreNamespace = Pick<DurableObjectNamespace<RiskgateStore>, "get" | "idFromName">;

/** Options for the Durable Object adapter. */
export interface DurableObjectStoreOptions {
  readonly namespace: StoreNamespace;
  readonly shards?: number;
  readonly timeoutMs: number;
  /** How long a call may still settle once its timeout's timer ran; `STORE_TIMEOUT_GRACE_MS` by default. */
  readonly graceMs?: number;
  /** The isolate's block cache; one per adapter by default. */
  readonly cache?: BlockCache;
}

/** FNV-1a, 32 bit: cheap, stable shard assignment. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The shard a key lives on. */
export function shardOf(key: string, shards: number): number {
  return shards === 1 ? 0 : fnv1a(key) % shards;
}

interface MutableBatch {
  now: number;
  hits: WindowHit[];
  distinct: DistinctAdd[];
  limits: RateLimitCheck[];
  penalties: PenaltyCheck[];
  historyKey: string | null;
  rosterKey?: string;
}

/** One shard's batch and, per kind, each op's index in the request (to restore order). */
export interface ShardPlan {
  readonly batch: MutableBatch;
  readonly index: { hits: number[]; distinct: number[]; limits: number[]; penalties: number[] };
}

/** Split a request into per-shard batches; the map's size is the subrequest count. */
export function planShards(request: ObserveRequest, shards: number): Map<number, ShardPlan> {
  const plan = new Map<number, ShardPlan>();
  const slot = (key: string): ShardPlan => {
    const shard = shardOf(key, shards);
    let entry = plan.get(shard);
    if (entry === undefined) {
      entry = {
        batch: { now: request.now, hits: [], distinct: [], limits: [], penalties: [], historyKey: null },
        index: { hits: [], distinct: [], limits: [], penalties: [] },
      };
      plan.set(shard, entry);
    }
    return entry;
  };
  request.hits.forEach((op, i) => {
    const s = slot(op.key);
    s.batch.hits.push(op);
    s.index.hits.push(i);
  });
  request.distinct.forEach((op, i) => {
    const s = slot(op.key);
    s.batch.distinct.push(op);
    s.index.distinct.push(i);
  });
  (request.limits ?? []).forEach((op, i) => {
    const s = slot(op.key);
    s.batch.limits.push(op);
    s.index.limits.push(i);
  });
  (request.penalties ?? []).forEach((op, i) => {
    const s = slot(op.key);
    s.batch.penalties.push(op);
    s.index.penalties.push(i);
  });
  if (request.historyKey !== null) slot(request.historyKey).batch.historyKey = request.historyKey;
  // The roster key's own shard: a respelling of an address has another history key but
  // the same roster key (both velocity form), so the two cannot share a placement rule.
  if (request.rosterKey != null) slot(request.rosterKey).batch.rosterKey = request.rosterKey;
  return plan;
}

/** The adapter. */
export class DurableObjectStore implements Store {
  readonly name = "durable-object";
  private readonly namespace: StoreNamespace;
  private readonly shards: number;
  private readonly timeoutMs: number;
  private readonly graceMs: number;
  private readonly cache: BlockCache;
  /** Each shard's object id (`idFromName` hashes the name), derived on first use. */
  private readonly ids: DurableObjectId[] = [];

  constructor({ namespace, shards = 1, timeoutMs, graceMs = STORE_TIMEOUT_GRACE_MS, cache = new BlockCache() }: DurableObjectStoreOptions) {
    if (!Number.isInteger(shards) || shards < 1) throw new Error("shards must be a positive integer");
    this.namespace = namespace;
    this.shards = shards;
    this.timeoutMs = timeoutMs;
    this.graceMs = graceMs;
    this.cache = cache;
  }

  async observe(request: ObserveRequest): Promise<ObserveResult> {
    for (const p of request.penalties ?? []) checkPenaltyPolicy(p.policy);
    const blocked = findCachedBlock(this.cache, request);
    if (blocked !== null) return blockedResult(blocked);
    if (this.shards === 1) return this.observeOne(request);
    const plan = planShards(request, this.shards);
    const fill = <T>(n: number, value: T) => new Array<T>(n).fill(value);
    const counts = fill(request.hits.length, 0);
    const distinct = fill(request.distinct.length, 0);
    const limits = fill<ObserveResult["limits"][number]>((request.limits ?? []).length, { success: false, remaining: 0, reset: 0 });
    const penalties = fill<PenaltyState>((request.penalties ?? []).length, { level: 0, until: 0 });
    let history: AccountHistory | null = null;
    let roster: RosterAnswer | undefined;
    await this.call("observe", () =>
      Promise.all(
        [...plan].map(async ([shard, { batch, index }]) => {
          const result: ShardResult = unpackResult(batch, await this.stub(shard).observe(packBatch(batch)));
          const put = <T>(target: T[], from: readonly T[], at: number[]) =>
            from.forEach((v, j) => {
              target[at[j] ?? 0] = v;
            });
          put(counts, result.counts, index.hits);
          put(distinct, result.distinct, index.distinct);
          put(limits, result.limits, index.limits);
          put(penalties, result.penalties, index.penalties);
          if (result.history !== null) history = result.history;
          if (result.roster !== undefined) roster = result.roster;
        }),
      ),
    );
    const result: ObserveResult = { counts, distinct, history, limits, penalties, blocked: null, ...(roster === undefined ? {} : { roster }) };
    rememberBlocks(this.cache, request, result);
    return result;
  }

  /** One shard holds every key: the request is its batch, and its answers are already in the request's order. */
  private async observeOne(request: ObserveRequest): Promise<ObserveResult> {
    const batch: ShardBatch = {
      now: request.now,
      hits: request.hits,
      distinct: request.distinct,
      limits: request.limits ?? [],
      penalties: request.penalties ?? [],
      historyKey: request.historyKey,
      ...(request.rosterKey == null ? {} : { rosterKey: request.rosterKey }),
    };
    const stub = this.stub(0);
    const wire = packBatch(batch);
    const { counts, distinct, limits, penalties, history, roster } = unpackResult(batch, await this.call("observe", () => stub.observe(wire)));
    const result: ObserveResult = { counts, distinct, history, limits, penalties, blocked: null, ...(roster === undefined ? {} : { roster }) };
    rememberBlocks(this.cache, request, result);
    return result;
  }

  cachedBlock(request: Pick<ObserveRequest, "now" | "limits" | "penalties">): CachedBlock | null {
    return findCachedBlock(this.cache, request);
  }

  async recordHistory(update: HistoryUpdate): Promise<void> {
    await this.call("recordHistory", () => this.stub(shardOf(update.historyKey, this.shards)).recordHistory(update));
  }

  async penalize(update: PenaltyUpdate): Promise<PenaltyState> {
    checkPenaltyPolicy(update.policy);
    return this.call("penalize", () => this.stub(shardOf(update.key, this.shards)).penalize(update));
  }

  async liftPenalty(lift: PenaltyLift): Promise<number> {
    forgetBlocks(this.cache, lift);
    const shards = new Map<number, { now: number; penalties: string[]; limits: PenaltyLift["limits"][number][] }>();
    const slot = (key: string) => {
      const shard = shardOf(key, this.shards);
      let entry = shards.get(shard);
      if (entry === undefined) {
        entry = { now: lift.now, penalties: [], limits: [] };
        shards.set(shard, entry);
      }
      return entry;
    };
    for (const key of lift.penalties) slot(key).penalties.push(key);
    for (const check of lift.limits) slot(check.key).limits.push({ key: check.key, limit: check.limit, windowMs: check.windowMs });
    const boxed = await this.call("liftPenalty", () =>
      Promise.all([...shards].map(([shard, part]) => this.stub(shard).liftPenalty(part))),
    );
    return boxed.reduce((a, b) => a + b, 0);
  }

  async tally(update: TallyUpdate): Promise<boolean> {
    checkTally(update);
    const stub = this.stub(shardOf(`t:${update.experiment}`, this.shards));
    const eventKey = update.eventKey === null ? null : `${update.experiment}:${update.eventKey}`;
    return this.call("tally", () => stub.tally(update.experiment, tallyFields(update), eventKey, update.now));
  }

  async readTallies(experiment: string): Promise<readonly TallyRow[]> {
    checkTallyName(experiment);
    const stub = this.stub(shardOf(`t:${experiment}`, this.shards));
    return sortTallies(await this.call("readTallies", () => stub.readTallies(experiment)));
  }

  /**
   * Each key on its own shard; the marker (`loaded`) on every shard, since each answers
   * its own keys' lookups. One RPC per shard touched, in parallel; each shard applies its
   * part in one transaction. A failure part-way leaves some shards applied: the origin
   * retries the same statement, which is idempotent.
   */
  async updateRoster(update: RosterUpdate): Promise<RosterStatus> {
    const parts = new Map<number, { add: string[]; remove: string[] }>();
    const part = (shard: number) => {
      let entry = parts.get(shard);
      if (entry === undefined) {
        entry = { add: [], remove: [] };
        parts.set(shard, entry);
      }
      return entry;
    };
    for (const key of update.add) part(shardOf(key, this.shards)).add.push(key);
    for (const key of update.remove) part(shardOf(key, this.shards)).remove.push(key);
    if (update.loaded !== null) for (let shard = 0; shard < this.shards; shard++) part(shard);
    if (parts.size === 0) part(0);
    const states = await this.call("updateRoster", () =>
      Promise.all([...parts].map(([shard, keys]) => this.stub(shard).updateRoster({ ...update, ...keys }))),
    );
    // With the marker on every shard they agree; for adds alone, any shard's marker will do.
    return states[0] ?? { loaded: false, loadedAt: null };
  }

  /**
   * A fresh stub per call (a stub that saw an exception fails every later call, and a
   * stub belongs to the request that made it), from an id derived once per shard.
   */
  private stub(shard: number): DurableObjectStub<RiskgateStore> {
    let id = this.ids[shard];
    if (id === undefined) {
      id = this.namespace.idFromName(`shard-${shard}`);
      this.ids[shard] = id;
    }
    return this.namespace.get(id);
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(work(), this.timeoutMs, `durable-object ${what}`, this.graceMs);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError("STORE_UNAVAILABLE", `durable-object ${what} failed`, { cause: err });
    }
  }
}
