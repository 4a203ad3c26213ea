/**
 * Local counters: what this isolate counts while the store cannot (docs/store.md,
 * "While the store is down"). When a request's one `observe` batch fails, the decision
 * stage runs the parts that must never go uncounted here instead: the rate-limit
 * ladders (with the same sliding-window arithmetic as the adapters, src/store/window.ts),
 * the penalty boxes (src/store/penalty.ts) and the CAPTCHA token's single-use record.
 * So a 429 still bites and a token is accepted at most once per isolate during an
 * outage; across isolates nothing is shared, which is why the decision still carries
 * the store's failure and its fail mode.
 *
 * Bounded: at most `capacity` entries (counters, penalty states), each dropped once it
 * can no longer matter (a bucket once it cannot be a previous bucket, a penalty once it
 * has decayed); when full, expired entries go first, then the least recently used.
 */
import { escalate, readPenalty, type StoredPenalty } from "./penalty.ts";
import type { ObserveRequest, PenaltyLift, PenaltyState, PenaltyUpdate, RateLimitResult } from "./port.ts";
import { makeRoom } from "./make-room.ts";
import { bucketExpiresAt, bucketOf, rateLimitDecision, slidingCount } from "./window.ts";

/** Default number of entries one isolate keeps. */
export const LOCAL_COUNTERS_CAPACITY = 20_000;

/** What the local counters answer: the parts of `ObserveResult` they keep. */
export interface LocalObserveResult {
  /** One count per hit, in order (each hit counted before the next is read). */
  readonly counts: readonly number[];
  readonly limits: readonly RateLimitResult[];
  readonly penalties: readonly PenaltyState[];
}

interface Entry {
  value: number | StoredPenalty;
  expiresAt: number;
}

/** Per-isolate counters with the store's window, ladder and penalty semantics. */
export class LocalCounters {
  private readonly entries = new Map<string, Entry>();
  private readonly capacity: number;

  constructor(capacity = LOCAL_COUNTERS_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
    this.capacity = capacity;
  }

  /** Entries held now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Count the hits, decide the limits and read the penalties of one request. */
  observe(request: Pick<ObserveRequest, "now" | "hits" | "limits" | "penalties">): LocalObserveResult {
    const { now } = request;
    const counts = request.hits.map((hit) => {
      const bucket = bucketOf(now, hit.windowMs);
      const current = this.add(`w:${hit.windowMs}:${hit.key}:${bucket}`, 1, bucketExpiresAt(bucket, hit.windowMs), now);
      return slidingCount(now, hit.windowMs, current, this.number(`w:${hit.windowMs}:${hit.key}:${bucket - 1}`, now));
    });
    const limits = (request.limits ?? []).map((check) => {
      const bucket = bucketOf(now, check.windowMs);
      const at = (b: number) => `rl:${check.limit}:${check.windowMs}:${check.key}:${b}`;
      const decision = rateLimitDecision(now, check.limit, check.windowMs, this.number(at(bucket), now), this.number(at(bucket - 1), now));
      if (decision.consume) this.add(at(bucket), 1, bucketExpiresAt(bucket, check.windowMs), now);
      return decision.result;
    });
    const penalties = (request.penalties ?? []).map((check) => readPenalty(this.penalty(check.key, now), now, check.policy));
    return { counts, limits, penalties };
  }

  /** One more violation for `update.key` (the store's `penalize`, for this isolate). */
  penalize(update: PenaltyUpdate): PenaltyState {
    const key = `p:${update.key}`;
    const { state, expiresAt } = escalate(this.penalty(update.key, update.now), update.now, update.policy);
    this.put(key, { value: { level: state.level, until: state.until }, expiresAt }, update.now);
    return state;
  }

  /** Lift penalty boxes in this isolate (the store's `liftPenalty`); how many were boxed. */
  lift(lift: PenaltyLift): number {
    let boxed = 0;
    for (const key of lift.penalties) {
      if ((this.penalty(key, lift.now)?.until ?? 0) > lift.now) boxed++;
      this.entries.delete(`p:${key}`);
    }
    for (const check of lift.limits) {
      const bucket = bucketOf(lift.now, check.windowMs);
      for (const b of [bucket, bucket - 1]) this.entries.delete(`rl:${check.limit}:${check.windowMs}:${check.key}:${b}`);
    }
    return boxed;
  }

  private penalty(key: string, now: number): StoredPenalty | null {
    const value = this.read(`p:${key}`, now);
    return value === null || typeof value === "number" ? null : value;
  }

  private number(key: string, now: number): number {
    const value = this.read(key, now);
    return typeof value === "number" ? value : 0;
  }

  private read(key: string, now: number): number | StoredPenalty | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  private add(key: string, amount: number, expiresAt: number, now: number): number {
    const value = this.number(key, now) + amount;
    this.put(key, { value, expiresAt }, now);
    return value;
  }

  /** Insert or refresh (most recently used last), evicting when full. */
  private put(key: string, entry: Entry, now: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) makeRoom(this.entries, this.capacity, (entry) => entry.expiresAt <= now);
    this.entries.set(key, entry);
  }
}
