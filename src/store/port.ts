/**
 * The store port: the only way signals and policy touch state. It is shaped by the
 * request path: everything one reset request needs is one `observe` call, so the
 * Upstash adapter can answer it in one HTTP round trip and the Durable Object adapter
 * in one subrequest per shard touched.
 *
 * Keys arriving here are already HMAC'd by the context stage; adapters never see a raw
 * email, IP or device id.
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

/** What the account's confirmed outcomes taught us (see `recordOutcome`). */
export interface AccountHistory {
  /** HMAC'd device ids seen on verified resets. */
  readonly devices: readonly string[];
  /** ISO country codes seen on verified resets. */
  readonly countries: readonly string[];
  readonly asns: readonly number[];
  /** Last verified location and time, for impossible-travel checks. */
  readonly lastVerified: { readonly lat: number; readonly lon: number; readonly at: number } | null;
  /** Hashed ids of the outcome events already applied (newest first), for idempotency. */
  readonly events?: readonly string[];
}

/** One request's batched read and write. */
export interface ObserveRequest {
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now: number;
  readonly hits: readonly WindowHit[];
  readonly distinct: readonly DistinctAdd[];
  /** HMAC'd account key whose history to read, if any. */
  readonly historyKey: string | null;
}

/** Results in the same order as the request's arrays. */
export interface ObserveResult {
  readonly counts: readonly number[];
  readonly distinct: readonly number[];
  readonly history: AccountHistory | null;
}

/** A confirmed outcome's contribution to an account's history. */
export interface HistoryUpdate {
  readonly historyKey: string;
  readonly device: string | null;
  readonly country: string | null;
  readonly asn: number | null;
  readonly location: { readonly lat: number; readonly lon: number } | null;
  readonly at: number;
  /**
   * Hashed id of the outcome event this update comes from. Adapters apply an update
   * whose event id the history already holds as a no-op: the origin may retry.
   */
  readonly eventId?: string;
}

/** The port. Every method rejects with `StoreError` on failure or timeout. */
export interface Store {
  /** Human-readable adapter name for logs and metrics (`durable-object`, `upstash`). */
  readonly name: string;
  observe(request: ObserveRequest): Promise<ObserveResult>;
  recordHistory(update: HistoryUpdate): Promise<void>;
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

/** Reject with STORE_TIMEOUT when `work` does not settle within `ms`. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreError("STORE_TIMEOUT", `${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
