/**
 * The production store across regions: Upstash Redis over its REST API, through
 * @upstash/redis (auto-pipelining) and @upstash/ratelimit.
 *
 * Round trips: `observe` issues every command it needs in the same tick, before
 * awaiting anything: one EVALSHA of the observe script (windows, HyperLogLogs,
 * history, penalties) plus one EVALSHA per rate-limit check from @upstash/ratelimit.
 * Auto-pipelining sends what was issued in one tick as one POST /pipeline, so an
 * allowed reset request costs one HTTP round trip. Only write-mode commands are used:
 * the client keeps reads and writes in separate pipelines, so a stray GET would
 * cost a second round trip. A key already blocked in the isolate's ephemeral cache
 * costs zero. After a Redis restart the first call of each script costs one more
 * round trip (EVALSHA → NOSCRIPT → EVAL).
 *
 * One client per call, not per isolate: auto-pipelining would otherwise merge concurrent
 * requests' commands into one fetch owned by whichever request issued first, and a
 * Worker must not make one request wait on I/O that belongs to another (if that request
 * ends first, the other one hangs until its timeout). A client is a few small objects.
 *
 * Failure: one timeout (the rule file's `store.timeout`) bounds the whole call and
 * aborts the fetch; the client's retries are off (a retry after a timeout would only
 * add load to a struggling Redis), and @upstash/ratelimit's own timeout is off because
 * it resolves as *allowed*: a silent fail-open. Every failure is a StoreError.
 */
import { Ratelimit } from "@upstash/ratelimit";
import { errors, Redis } from "@upstash/redis/cloudflare";
import { blockedResult, BlockCache, findCachedBlock, rateLimitPrefix, rememberBlocks } from "./ephemeral.ts";
import { checkPenaltyPolicy } from "./penalty.ts";
import type {
  HistoryUpdate,
  ObserveRequest,
  ObserveResult,
  PenaltyState,
  PenaltyUpdate,
  RateLimitCheck,
  RateLimitResult,
  Store,
  TallyRow,
  TallyUpdate,
} from "./port.ts";
import { StoreError, withTimeout } from "./port.ts";
import { checkTally, checkTallyName, sortTallies } from "./tally.ts";
import {
  historyCall,
  observeCall,
  parseObserve,
  parsePenalty,
  parseTallies,
  penalizeCall,
  type ScriptCall,
  tallyCall,
} from "./upstash-batch.ts";
import { HISTORY_SCRIPT, type LuaScript, OBSERVE_SCRIPT, PENALIZE_SCRIPT, TALLY_SCRIPT } from "./upstash-scripts.ts";

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
  private readonly url: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly cache: BlockCache;

  constructor({ url, token, timeoutMs, cache = new BlockCache() }: UpstashStoreOptions) {
    this.url = url;
    this.token = token;
    this.timeoutMs = timeoutMs;
    this.cache = cache;
  }

  async observe(request: ObserveRequest): Promise<ObserveResult> {
    for (const p of request.penalties ?? []) checkPenaltyPolicy(p.policy);
    const blocked = findCachedBlock(this.cache, request);
    if (blocked !== null) return blockedResult(blocked);
    const result = await this.call("observe", () => this.observeOnce(request));
    rememberBlocks(this.cache, request, result);
    return result;
  }

  async recordHistory(update: HistoryUpdate): Promise<void> {
    await this.call("recordHistory", () => run(this.client(), HISTORY_SCRIPT, historyCall(update)));
  }

  async penalize(update: PenaltyUpdate): Promise<PenaltyState> {
    checkPenaltyPolicy(update.policy);
    return parsePenalty(await this.call("penalize", () => run(this.client(), PENALIZE_SCRIPT, penalizeCall(update))));
  }

  async tally(update: TallyUpdate): Promise<boolean> {
    checkTally(update);
    const reply = await this.call("tally", () => run(this.client(), TALLY_SCRIPT, tallyCall(update)));
    return reply === 1;
  }

  async readTallies(experiment: string): Promise<readonly TallyRow[]> {
    checkTallyName(experiment);
    const reply = await this.call("readTallies", () => this.client().hgetall(`rg:t:${experiment}`));
    return sortTallies(parseTallies(reply));
  }

  private client(): Redis {
    return new Redis({
      url: this.url,
      token: this.token,
      enableAutoPipelining: true,
      // Replies are parsed strictly by upstash-batch.ts, never guessed as JSON.
      automaticDeserialization: false,
      enableTelemetry: false,
      retry: { retries: 0, backoff: () => 0 },
      // A fresh signal per HTTP request: a hung request is cut at the timeout, not left open.
      signal: () => AbortSignal.timeout(this.timeoutMs),
    });
  }

  private async observeOnce(request: ObserveRequest): Promise<ObserveResult> {
    const redis = this.client();
    // Everything is issued synchronously, before the first await: one pipeline.
    const call = observeCall(request);
    const scripted = call === null ? Promise.resolve(null) : run(redis, OBSERVE_SCRIPT, call);
    const limited = Promise.all((request.limits ?? []).map((check) => this.limit(redis, check)));
    const [reply, limits] = await Promise.all([scripted, limited]);
    const parsed =
      reply === null ? { counts: [], distinct: [], history: null, penalties: [] } : parseObserve(request, reply);
    return { ...parsed, limits, blocked: null };
  }

  private async limit(redis: Redis, check: RateLimitCheck): Promise<RateLimitResult> {
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(check.limit, `${check.windowMs} ms`),
      prefix: rateLimitPrefix(check),
      // Shared with findCachedBlock: same keys, so a block is seen before any command is issued.
      ephemeralCache: check.cache ? this.cache : false,
      // Its timeout resolves as allowed (fail-open); ours bounds the whole call instead.
      timeout: 0,
      analytics: false,
      enableProtection: false,
    });
    const { success, remaining, reset } = await limiter.limit(check.key);
    return { success, remaining, reset };
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(work(), this.timeoutMs, `upstash ${what}`);
    } catch (err) {
      throw storeErrorFrom(err, what);
    }
  }
}
