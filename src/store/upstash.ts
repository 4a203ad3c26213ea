/**
 * The production store across regions: Upstash Redis over its REST API, through
 * @upstash/redis.
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
 * test checks both agree on one Redis. The client is built once per isolate, without
 * auto-pipelining, so no request ever waits on another's fetch.
 *
 * Failure: one timeout (the rule file's `store.timeout`) bounds the whole call and
 * aborts the fetch; the client's retries are off (a retry after a timeout would only
 * add load to a struggling Redis). Every failure is a StoreError.
 */
import { errors, Redis } from "@upstash/redis/cloudflare";
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
import { StoreError, withTimeout } from "./port.ts";
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
import { HISTORY_SCRIPT, LIFT_SCRIPT, type LuaScript, OBSERVE_SCRIPT, PENALIZE_SCRIPT, ROSTER_SCRIPT, TALLY_SCRIPT } from "./upstash-scripts.ts";

/** Options for the Upstash adapter. */
export interface UpstashStoreOptions {
  /** UPSTASH_REDIS_REST_URL. */
  readonly url: string;
  /** UPSTASH_REDIS_REST_TOKEN. */
  readonly token: string;
  readonly timeoutMs: number;
  /** The isolate's block cache; one per adapter by default. */
  readonly cache?: BlockCache;
}

/** EVALSHA, falling back to EVAL when Redis does not have the script yet. */
function run(redis: Redis, script: LuaScript, { keys, args }: ScriptCall): Promise<unknown> {
  return redis.evalsha(script.sha1, keys, args).catch((err: unknown) => {
    if (err instanceof Error && err.message.includes("NOSCRIPT")) return redis.eval(script.source, keys, args);
    throw err;
  });
}

/** Map whatever the client threw to a StoreError with a stable code. */
export function storeErrorFrom(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  if (err instanceof errors.UpstashJSONParseError) {
    return new StoreError("STORE_BAD_RESPONSE", `upstash ${what}: response was not JSON`, { cause: err });
  }
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
  private readonly cache: BlockCache;
  private readonly redis: Redis;

  constructor({ url, token, timeoutMs, cache = new BlockCache() }: UpstashStoreOptions) {
    this.timeoutMs = timeoutMs;
    this.cache = cache;
    this.redis = new Redis({
      url,
      token,
      // One command per call: nothing is ever batched with another request's commands.
      enableAutoPipelining: false,
      // Replies are parsed strictly by upstash-batch.ts, never guessed as JSON.
      automaticDeserialization: false,
      enableTelemetry: false,
      retry: { retries: 0, backoff: () => 0 },
      // A fresh signal per HTTP request: a hung request is cut at the timeout, not left open.
      signal: () => AbortSignal.timeout(this.timeoutMs),
    });
  }

  async observe(request: ObserveRequest): Promise<ObserveResult> {
    for (const p of request.penalties ?? []) checkPenaltyPolicy(p.policy);
    const blocked = findCachedBlock(this.cache, request);
    if (blocked !== null) return blockedResult(blocked);
    const result = await this.call("observe", () => this.observeOnce(request));
    rememberBlocks(this.cache, request, result);
    return result;
  }

  cachedBlock(request: Pick<ObserveRequest, "now" | "limits" | "penalties">): CachedBlock | null {
    return findCachedBlock(this.cache, request);
  }

  async recordHistory(update: HistoryUpdate): Promise<void> {
    await this.call("recordHistory", () => run(this.redis, HISTORY_SCRIPT, historyCall(update)));
  }

  async penalize(update: PenaltyUpdate): Promise<PenaltyState> {
    checkPenaltyPolicy(update.policy);
    return parsePenalty(await this.call("penalize", () => run(this.redis, PENALIZE_SCRIPT, penalizeCall(update))));
  }

  async liftPenalty(lift: PenaltyLift): Promise<number> {
    forgetBlocks(this.cache, lift);
    const call = liftCall(lift);
    if (call.keys.length === 0) return 0;
    const reply = await this.call("liftPenalty", () => run(this.redis, LIFT_SCRIPT, call));
    if (typeof reply !== "number" || !Number.isSafeInteger(reply)) throw new StoreError("STORE_BAD_RESPONSE", "upstash returned an unexpected lift count");
    return reply;
  }

  async tally(update: TallyUpdate): Promise<boolean> {
    checkTally(update);
    const reply = await this.call("tally", () => run(this.redis, TALLY_SCRIPT, tallyCall(update)));
    return reply === 1;
  }

  async readTallies(experiment: string): Promise<readonly TallyRow[]> {
    checkTallyName(experiment);
    const reply = await this.call("readTallies", () => this.redis.hgetall(`rg:t:${experiment}`));
    return sortTallies(parseTallies(reply));
  }

  /** One script call: atomic, so a statement is applied whole or not at all. */
  async updateRoster(update: RosterUpdate): Promise<RosterStatus> {
    return parseRosterStatus(await this.call("updateRoster", () => run(this.redis, ROSTER_SCRIPT, rosterCall(update))));
  }

  private async observeOnce(request: ObserveRequest): Promise<ObserveResult> {
    const call = observeCall(request);
    if (call === null) return { counts: [], distinct: [], history: null, penalties: [], limits: [], blocked: null };
    const reply = await run(this.redis, OBSERVE_SCRIPT, call);
    return { ...parseObserve(request, reply), blocked: null };
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(work(), this.timeoutMs, `upstash ${what}`);
    } catch (err) {
      throw storeErrorFrom(err, what);
    }
  }
}
