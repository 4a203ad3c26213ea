/**
 * The store port: the only way signals and policy touch state. It is shaped by the
 * request path: everything one reset request needs is one `observe` call, so the
 * Upstash adapter can answer it in one HTTP round trip and the Durable Object adapter
 * in one subrequest per shard touched. Everything else (`recordHistory`, `penalize`,
 * `tally`, `readTallies`) happens off the decision path: after the response, or on
 * other endpoints. Reference: docs/store.md.
 *
 * Keys arriving here are already HMAC'd by the context stage; adapters never see a raw
 * email, IP or device id. Adapters only add their own prefixes.
 */

/** Count one hit on a sliding window and return the count including it. */
export interface WindowHit {
  readonly key: string;
  readonly windowMs: number;
}

/** Add a member to a distinct set over a window and return the distinct count. */
export interface DistinctAdd {
  readonly key: string;
  readonly member: string;
  readonly windowMs: number;
}

/**
 * A rate-limit check with @upstash/ratelimit's sliding-window semantics: when the
 * weighted count is already at `limit` the check fails and consumes nothing; otherwise
 * it consumes one unit.
 */
export interface RateLimitCheck {
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
  /**
   * Remember a failure in this isolate until the window resets, so that later requests
   * carrying this key are answered without any store call (`ObserveResult.blocked`).
   * Use it for hard limits (429); not for steps a user can clear, such as a CAPTCHA.
   */
  readonly cache: boolean;
}

/** The answer to one rate-limit check. */
export interface RateLimitResult {
  readonly success: boolean;
  /** Units left in the window after this check (0 when it failed). */
  readonly remaining: number;
  /** Epoch ms at which the current window ends; the basis for `Retry-After`. */
  readonly reset: number;
}

/** How a penalty box grows with repeated violations and shrinks with good behaviour. */
export interface PenaltyPolicy {
  /** Box length for the first violation. */
  readonly baseMs: number;
  /** Each further violation multiplies the box by this (>= 1). */
  readonly factor: number;
  /** The box never exceeds this. */
  readonly maxMs: number;
  /** Each `decayMs` after a box ends without a new violation forgets one level. */
  readonly decayMs: number;
}

/** Read a key's penalty state (decay applied at `now`). */
export interface PenaltyCheck {
  readonly key: string;
  readonly policy: PenaltyPolicy;
  /** Remember an active box in this isolate (see `RateLimitCheck.cache`). */
  readonly cache: boolean;
}

/** A key's penalty state. */
export interface PenaltyState {
  /** Violations remembered after decay; the next box is `base * factor^level`. */
  readonly level: number;
  /** Epoch ms until which the key is boxed; 0 when it is not. */
  readonly until: number;
}

/** Escalate a key's penalty: one more violation at `now`. */
export interface PenaltyUpdate {
  readonly key: string;
  readonly now: number;
  readonly policy: PenaltyPolicy;
}

/**
 * An operator lifting penalty boxes (docs/operations.md, "Lift a penalty box"): each
 * penalty key's state (level and box) is forgotten, and each rate-limit step's current
 * and previous windows are cleared, so the next request is not refused again at once.
 */
export interface PenaltyLift {
  readonly now: number;
  readonly penalties: readonly string[];
  readonly limits: readonly Pick<RateLimitCheck, "key" | "limit" | "windowMs">[];
}

/** What the account's confirmed outcomes taught us (see `recordHistory`). */
export interface AccountHistory {
  /** HMAC'd device ids seen on verified resets, newest first. */
  readonly devices: readonly string[];
  /** ISO country codes seen on verified resets, newest first. */
  readonly countries: readonly string[];
  readonly asns: readonly number[];
  /** Last verified location and time, for impossible-travel checks. */
  readonly lastVerified: { readonly lat: number; readonly lon: number; readonly at: number } | null;
  /** The origin's latest privileged tag (`HistoryUpdate.privileged`); false when never set or cleared. */
  readonly privileged: boolean;
}

/** One request's batched read and write. */
export interface ObserveRequest {
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now: number;
  readonly hits: readonly WindowHit[];
  readonly distinct: readonly DistinctAdd[];
  /** HMAC'd account key whose history to read, if any. */
  readonly historyKey: string | null;
  readonly limits?: readonly RateLimitCheck[];
  readonly penalties?: readonly PenaltyCheck[];
  /**
   * HMAC'd account key (the velocity form) to look up on the origin's account roster
   * (`updateRoster`), read in the same call; absent or null: not asked.
   */
  readonly rosterKey?: string | null;
}

/**
 * What the account roster says about `ObserveRequest.rosterKey`: `off` until the origin
 * has marked a roster loaded (or after it turned it off), then `listed` or `absent`.
 */
export type RosterAnswer = "off" | "listed" | "absent";

/**
 * The origin's statement about which accounts exist (POST /v1/accounts): keys to add and
 * to remove (HMAC'd velocity forms), and `loaded` true (the roster is complete as of `at`:
 * turn it on), false (turn it off) or null (leave the marker as it is). Applied as one
 * unit per shard: adds, then removes, then the marker.
 */
export interface RosterUpdate {
  readonly add: readonly string[];
  readonly remove: readonly string[];
  readonly loaded: boolean | null;
  /** When the origin signed the statement (epoch ms): the roster's as-of. */
  readonly at: number;
}

/** The roster's marker: on since `loadedAt` (epoch ms), or off. */
export interface RosterStatus {
  readonly loaded: boolean;
  readonly loadedAt: number | null;
}

/** A key this isolate already knows to be blocked (from a cached limit or penalty). */
export interface CachedBlock {
  readonly key: string;
  readonly kind: "rate-limit" | "penalty";
  readonly until: number;
}

/**
 * Results in the same order as the request's arrays. When `blocked` is set the store
 * was not called at all: every array is empty and `history` is null, and the caller
 * must treat the request as blocked until `blocked.until`.
 */
export interface ObserveResult {
  readonly counts: readonly number[];
  readonly distinct: readonly number[];
  readonly history: AccountHistory | null;
  readonly limits: readonly RateLimitResult[];
  readonly penalties: readonly PenaltyState[];
  readonly blocked: CachedBlock | null;
  /** The roster's answer for `rosterKey`; absent when not asked (or when `blocked`). */
  readonly roster?: RosterAnswer;
}

/**
 * The origin's statement that an account is privileged (true) or no longer is (false).
 * The statement with the latest `at` wins, whatever order they arrive in. A set tag is
 * kept until the origin clears it (it does not expire with the rest of the history: a
 * rarely used admin account must not quietly fall back to the normal tier table); a
 * cleared one expires with the history.
 */
export interface PrivilegedTag {
  readonly value: boolean;
  /** When the origin made the statement (epoch ms). */
  readonly at: number;
}

/** A confirmed outcome's contribution to an account's history. */
export interface HistoryUpdate {
  readonly historyKey: string;
  readonly device: string | null;
  readonly country: string | null;
  readonly asn: number | null;
  readonly location: { readonly lat: number; readonly lon: number } | null;
  readonly at: number;
  /** Set or clear the origin's privileged tag; absent leaves it as it is. */
  readonly privileged?: PrivilegedTag;
}

/** Add to an experiment arm's counters (exposures, sends, cost, ...). */
export interface TallyUpdate {
  /** Experiment and arm ids from the rule file: `[a-z0-9_.-]+`, never identifiers. */
  readonly experiment: string;
  readonly arm: string;
  readonly now: number;
  /** Counter name (same alphabet) → amount; also counted in the day bucket of `now`. */
  readonly add: Readonly<Record<string, number>>;
  /** HMAC'd event id: a second update with the same id (within 7 days) counts nothing. */
  readonly eventKey: string | null;
}

/** One counter of one arm: the total (`day` null) or one UTC day (`day` = epoch days). */
export interface TallyRow {
  readonly arm: string;
  readonly counter: string;
  readonly day: number | null;
  readonly value: number;
}

/**
 * The port. Every method rejects with `StoreError` on failure or timeout, and with a
 * `RangeError` on arguments no caller should send (a bad penalty policy or tally name).
 */
export interface Store {
  /** Human-readable adapter name for logs and metrics (`durable-object`, `upstash`). */
  readonly name: string;
  observe(request: ObserveRequest): Promise<ObserveResult>;
  /**
   * The first of `request`'s rate limits and penalty boxes this isolate already knows to
   * be blocked (the same cache `observe` consults first), or null. No I/O: the screen
   * stage (src/reset/screen.ts) asks it before the request is even read.
   */
  cachedBlock(request: Pick<ObserveRequest, "now" | "limits" | "penalties">): CachedBlock | null;
  recordHistory(update: HistoryUpdate): Promise<void>;
  /** One more violation for `key`; returns the new state. */
  penalize(update: PenaltyUpdate): Promise<PenaltyState>;
  /**
   * Lift penalty boxes (an operator's action): forget the penalty keys' state, clear the
   * rate-limit windows and this isolate's cached blocks for them. Returns how many of the
   * penalty keys were boxed at `lift.now`.
   */
  liftPenalty(lift: PenaltyLift): Promise<number>;
  /** Returns false when `eventKey` was already counted. */
  tally(update: TallyUpdate): Promise<boolean>;
  readTallies(experiment: string): Promise<readonly TallyRow[]>;
  /** Apply the origin's roster statement (idempotent: sets); returns the marker after it. */
  updateRoster(update: RosterUpdate): Promise<RosterStatus>;
}

/** Stable failure codes; the decision's `errors` carries them. */
export type StoreErrorCode = "STORE_TIMEOUT" | "STORE_UNAVAILABLE" | "STORE_BAD_RESPONSE";

/** A store call failed; the rule file's fail mode decides what happens next. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
  }
}

/** How many history entries of each kind are kept (oldest dropped first). */
export const HISTORY_LIMIT = 20;
/** Account history is forgotten this long after its last update. */
export const HISTORY_RETENTION_MS = 180 * 86_400_000;
/** How long a tally event id is remembered for de-duplication. */
export const TALLY_EVENT_TTL_MS = 7 * 86_400_000;
/** The alphabet of experiment, arm and counter names. */
export const TALLY_NAME = /^[a-z0-9_.-]{1,64}$/;

/**
 * How long a store call that reached its timeout may still settle, counted from when the
 * isolate ran the timeout's timer (ms). A timer runs late when the isolate was busy: a
 * major GC (whose pause, under load, kept every request of a workerd isolate waiting
 * 110-260 ms in the benchmark), a burst of other requests' work. During such a pause the
 * store's answer arrives, or the request is only sent, and at its end the expired timer
 * used to win: the isolate's own pause became STORE_TIMEOUT and an honest reset got the
 * store fail mode's challenge (BENCHMARKS.md, "The occasional 4xx in (b)"). The grace
 * lets an answer that is there, or comes at once, count; a store that really does not
 * answer fails at `timeout` + this, at most (docs/store.md, "Failures").
 */
export const STORE_TIMEOUT_GRACE_MS = 50;

/**
 * The deadline of one store call: `signal` aborts with a `TimeoutError` when the isolate's
 * timer for `ms` has fired and then `graceMs` (`STORE_TIMEOUT_GRACE_MS`) more have passed.
 * `clear()` once the call settled (its timers are dropped).
 */
export class StoreDeadline {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout>;
  constructor(ms: number, what: string, graceMs = STORE_TIMEOUT_GRACE_MS) {
    this.timer = setTimeout(() => {
      this.timer = setTimeout(() => this.controller.abort(new DOMException(`${what} took over ${ms} ms`, "TimeoutError")), graceMs);
    }, ms);
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  clear(): void {
    clearTimeout(this.timer);
  }
}

/**
 * Reject with STORE_TIMEOUT when `work` does not settle within `ms` (plus the grace above,
 * from when the isolate ran the timer). One promise and at most two timers per call (no
 * `Promise.race`, no async frame): it wraps every store call.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string, graceMs = STORE_TIMEOUT_GRACE_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer = setTimeout(() => {
      timer = setTimeout(() => reject(new StoreError("STORE_TIMEOUT", `${what} took over ${ms} ms`)), graceMs);
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
