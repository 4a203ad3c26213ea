/**
 * What the Durable Object adapter sends a shard and what it answers: the readable shapes
 * (`ShardBatch`, `ShardResult`) and their wire forms, into which the adapter packs a
 * batch before the RPC and from which it unpacks the answers.
 */
import type { AccountHistory, DistinctAdd, PenaltyCheck, PenaltyState, RateLimitCheck, RateLimitResult, RosterAnswer, WindowHit } from "./port.ts";

/** One shard's part of an observe batch (the adapter keeps the original order). */
export interface ShardBatch {
  readonly now: number;
  readonly hits: readonly WindowHit[];
  readonly distinct: readonly DistinctAdd[];
  readonly limits: readonly RateLimitCheck[];
  readonly penalties: readonly PenaltyCheck[];
  readonly historyKey: string | null;
  /** The roster key to look up on this shard (`ObserveRequest.rosterKey`); absent: none. */
  readonly rosterKey?: string | null;
}

/** One shard's answers, in the batch's order. */
export interface ShardResult {
  readonly counts: number[];
  readonly distinct: number[];
  readonly limits: RateLimitResult[];
  readonly penalties: PenaltyState[];
  readonly history: AccountHistory | null;
  /** The roster's answer when the batch asked (`rosterKey`). */
  readonly roster?: RosterAnswer;
}

/**
 * A `ShardBatch` as it travels to the object: a few flat arrays. An RPC's structured clone
 * writes every property name of every object and builds every object again on the other
 * side; a reset's batch has ~35 operations (the shipped rules), so objects cost the copy
 * three times what the arrays do (docs/store.md, "The wire").
 */
export interface WireBatch {
  readonly now: number;
  /** Per kind, how many: hits, distinct adds, limits, penalties. */
  readonly sizes: readonly [number, number, number, number];
  /** Every operation's key, kind after kind in that order. */
  readonly keys: readonly string[];
  /** Each distinct add's member. */
  readonly members: readonly string[];
  /**
   * windowMs per hit; windowMs per distinct add; limit and windowMs per limit; baseMs,
   * factor, maxMs and decayMs per penalty.
   */
  readonly numbers: readonly number[];
  readonly historyKey: string | null;
  readonly rosterKey: string | null;
}

/**
 * A `ShardResult` as it travels back: `numbers` holds a count per hit, one per distinct
 * add, success (1 or 0), remaining and reset per limit, level and until per penalty.
 */
export interface WireResult {
  readonly numbers: number[];
  readonly history: AccountHistory | null;
  readonly roster: RosterAnswer | null;
}

/** The batch in its wire form (`WireBatch`). */
export function packBatch(batch: ShardBatch): WireBatch {
  const keys: string[] = [];
  const members: string[] = [];
  const numbers: number[] = [];
  for (const hit of batch.hits) {
    keys.push(hit.key);
    numbers.push(hit.windowMs);
  }
  for (const add of batch.distinct) {
    keys.push(add.key);
    members.push(add.member);
    numbers.push(add.windowMs);
  }
  for (const check of batch.limits) {
    keys.push(check.key);
    numbers.push(check.limit, check.windowMs);
  }
  for (const { key, policy } of batch.penalties) {
    keys.push(key);
    numbers.push(policy.baseMs, policy.factor, policy.maxMs, policy.decayMs);
  }
  return {
    now: batch.now,
    sizes: [batch.hits.length, batch.distinct.length, batch.limits.length, batch.penalties.length],
    keys,
    members,
    numbers,
    historyKey: batch.historyKey,
    rosterKey: batch.rosterKey ?? null,
  };
}

/** The answers to `batch` from their wire form (`WireResult`). */
export function unpackResult(batch: Pick<ShardBatch, "hits" | "distinct" | "limits" | "penalties">, wire: WireResult): ShardResult {
  const n = wire.numbers;
  let at = 0;
  const take = () => n[at++] ?? 0;
  const counts = batch.hits.map(take);
  const distinct = batch.distinct.map(take);
  const limits = batch.limits.map(() => ({ success: take() === 1, remaining: take(), reset: take() }));
  const penalties = batch.penalties.map(() => ({ level: take(), until: take() }));
  return { counts, distinct, limits, penalties, history: wire.history, ...(wire.roster === null ? {} : { roster: wire.roster }) };
}
