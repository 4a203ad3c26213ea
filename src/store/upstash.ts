/**
 * The production store across regions: Upstash Redis over its REST API (upstash-rest.ts
 * speaks it directly; why not @upstash/redis is said there).
 *
 * Round trips: `observe` is one EVALSHA of the observe script, which counts the windows
 * and HyperLogLogs, reads history and penalty boxes and decides every rate-limit ladder
 * step, atomically: an allowed reset request costs one HTTP round trip. A key already
 * blocked in the isolate's ephemeral cache costs zero. After a Redis restart the first
 * call of each script costs one more round trip (EVALSHA → NOSCRIPT → EVAL).
 *
 * The ladder steps used to be @upstash/ratelimit limiters, auto-pipelined with the
 * observe script. That meant a Redis client, a pipeline and a limiter per step built for
 * every request (a client shared across requests would merge their commands into one
 * fetch owned by whichever request issued first, and a Worker must not make a request
 * wait on another's I/O): about 400 µs of CPU per request in the benchmark
 * (docs/architecture.md, "Performance"). The observe script now decides the steps with
 * @upstash/ratelimit's sliding-window arithmetic on the same keys, and a differential
 * test checks both agree on one Redis. One fetch per call, never shared with another
 * request's commands, so no request ever waits on another's fetch.
 *
 * Failure: one deadline (the rule file's `store.timeout`, plus a short grace from when the
 * isolate ran its timer: `StoreDeadline` in port.ts) bounds the whole call and aborts its
 * fetch; nothing is retried (a retry after a timeout would
 * only add load to a struggling Redis). Every failure is a StoreError: STORE_TIMEOUT at
 * the timeout, STORE_UNAVAILABLE for a refused connection, an HTTP error or a Redis
 * error reply, STORE_BAD_RESPONSE for a reply that is not what the script returns.
 */
import { blockedResult, BlockCache, findCachedBlock, forgetBlocks, rememberBlocks } from "./ephemeral.ts";
import { checkPenaltyPolicy } from "./penalty.ts";
import type {
  CachedBlock,
  HistoryUpdate,
  ObserveRequest,
  ObserveResult,
  PenaltyLift,
  PenaltyState,
  PenaltyUpdate,
  RosterStatus,
  RosterUpdate,
  Store,
  TallyRow,
  TallyUpdate,
} from "./port.ts";
import { STORE_TIMEOUT_GRACE_MS, StoreDeadline, StoreError } from "./port.ts";
import { checkTally, checkTallyName, sortTallies } from "./tally.ts";
import {
  historyCall,
  liftCall,
  observeCall,
  parseObserve,
  parseRosterStatus,
  parsePenalty,
  parseTallies,
  penalizeCall,
  rosterCall,
  type ScriptCall,
  tallyCall,
} from "./upstash-batch.ts";
import { RedisReplyError, UpstashRest } from "./upstash-rest.ts";
import { HISTORY_SCRIPT, LIFT_SCRIPT, type LuaScript, OBSERVE_SCRIPT, PENALIZE_SCRIPT, ROSTER_SCRIPT, TALLY_SCRIPT } from "./upstash-scripts.ts";

/** Options for the Upstash adapter. */
export interface UpstashStoreOptions {
  /** UPSTASH_REDIS_REST_URL. */
  readonly url: string;
  /** UPSTASH_REDIS_REST_TOKEN. */
  readonly token: string;
  readonly timeoutMs: number;
  /** How long a call may still settle once its timeout's timer ran; `STORE_TIMEOUT_GRACE_MS` by default. */
  readonly graceMs?: number;
  /** The isolate's block cache; one per adapter by default. */
  readonly cache?: BlockCache;
}

/** EVALSHA, falling back to EVAL when Redis does not have the script yet; one signal bounds both. */
async function run(rest: UpstashRest, script: LuaScript, { keys, args }: ScriptCall, signal: AbortSignal): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await rest.command(["EVALSHA", script.sha1, ...tail], signal);
  } catch (err) {
    if (err instanceof RedisReplyError && err.message.includes("NOSCRIPT")) return rest.command(["EVAL", script.source, ...tail], signal);
    throw err;
  }
}

/** Map whatever a call threw to a StoreError with a stable code. */
export function storeErrorFrom(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new StoreError("STORE_TIMEOUT", `upstash ${what} was aborted at the timeout`, { cause: err });
  }
  return new StoreError("STORE_UNAVAILABLE", `upstash ${what} failed`, { cause: err });
}

/** The adapter. */
export class UpstashStore implements Store {
  readonly name = "upstash";
  private readonly timeoutMs: number;
  private readonly graceMs: number;
  private readonly cache: BlockCache;
  private readonly rest: UpstashRest;

  constructor({ url, token, timeoutMs, graceMs = STORE_TIMEOUT_GRACE_MS, cache = new BlockCache() }: UpstashStoreOptions) {
    this.timeoutMs = timeoutMs;
    this.graceMs = graceMs;
    this.cache = cache;
    this.rest = new UpstashRest(url, token);
  }

  async observe(request: ObserveRequest): Promise<ObserveResult> {
    for (const p of request.penalties ?? []) checkPenaltyPolicy(p.policy);
    const blocked = findCachedBlock(this.cache, request);
    if (blocked !== null) return blockedResult(blocked);
    const result = await this.call("observe", (signal) => this.observeOnce(request, signal));
    rememberBlocks(this.cache, request, result);
    return result;
  }

  cachedBlock(request: Pick<ObserveRequest, "now" | "limits" | "penalties">): CachedBlock | null {
    return findCachedBlock(this.cache, request);
  }

  async recordHistory(update: HistoryUpdate): Promise<void> {
    await this.call("recordHistory", (signal) => run(this.rest, HISTORY_SCRIPT, historyCall(update), signal));
  }

  async penalize(update: PenaltyUpdate): Promise<PenaltyState> {
    checkPenaltyPolicy(update.policy);
    return parsePenalty(await this.call("penalize", (signal) => run(this.rest, PENALIZE_SCRIPT, penalizeCall(update), signal)));
  }

  async liftPenalty(lift: PenaltyLift): Promise<number> {
    forgetBlocks(this.cache, lift);
    const call = liftCall(lift);
    if (call.keys.length === 0) return 0;
    const reply = await this.call("liftPenalty", (signal) => run(this.rest, LIFT_SCRIPT, call, signal));
    if (typeof reply !== "number" || !Number.isSafeInteger(reply)) throw new StoreError("STORE_BAD_RESPONSE", "upstash returned an unexpected lift count");
    return reply;
  }

  async tally(update: TallyUpdate): Promise<boolean> {
    checkTally(update);
    const reply = await this.call("tally", (signal) => run(this.rest, TALLY_SCRIPT, tallyCall(update), signal));
    return reply === 1;
  }

  async readTallies(experiment: string): Promise<readonly TallyRow[]> {
    checkTallyName(experiment);
    const reply = await this.call("readTallies", (signal) => this.rest.command(["HGETALL", `rg:t:${experiment}`], signal));
    return sortTallies(parseTallies(reply));
  }

  /** One script call: atomic, so a statement is applied whole or not at all. */
  async updateRoster(update: RosterUpdate): Promise<RosterStatus> {
    return parseRosterStatus(await this.call("updateRoster", (signal) => run(this.rest, ROSTER_SCRIPT, rosterCall(update), signal)));
  }

  private async observeOnce(request: ObserveRequest, signal: AbortSignal): Promise<ObserveResult> {
    const call = observeCall(request);
    if (call === null) return { counts: [], distinct: [], history: null, penalties: [], limits: [], blocked: null };
    const reply = await run(this.rest, OBSERVE_SCRIPT, call, signal);
    return { ...parseObserve(request, reply), blocked: null };
  }

  /**
   * One adapter call under one deadline: the signal aborts whichever fetch is in flight at
   * the timeout (and its grace, `STORE_TIMEOUT_GRACE_MS`: an answer that arrived while the
   * isolate was busy past the timeout still counts).
   */
  private async call<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = new StoreDeadline(this.timeoutMs, `upstash ${what}`, this.graceMs);
    try {
      return await work(deadline.signal);
    } catch (err) {
      throw storeErrorFrom(err, what);
    } finally {
      deadline.clear();
    }
  }
}
