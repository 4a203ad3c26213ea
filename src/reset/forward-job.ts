/**
 * A forward still to make (src/reset/deliver.ts) and how one ended: plain data, shared by
 * the act stage, the record stage, the wiring (the queue's message type) and delivery.
 */
import type { OriginResult } from "../origin/forward.ts";
import type { Decision } from "../shared/decision.ts";

/** The header carrying the decision id, stable across retries: the origin's idempotency key. */
export const DECISION_ID_HEADER = "Riskgate-Decision-Id";

/** Everything needed to forward (again) one allowed reset: structured-clonable, for a queue message. */
export interface ForwardJob {
  readonly method: string;
  readonly url: string;
  /** The client's headers as received (forward() removes proxy and Riskgate-* headers). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | null;
  readonly clientIp: string | null;
  readonly decision: Decision;
  readonly accountKey: string;
  /** Extra claims signed with the decision (`seen`). */
  readonly extra: Readonly<Record<string, unknown>>;
  /** For the final `forward` event. */
  readonly requestId: string;
  readonly at: number;
  readonly respond: "uniform" | "origin";
}

/** Where a delivery ended. `final: false`: handed to the queue, which reports the end. */
export interface ForwardOutcome {
  /** The last attempt's result. */
  readonly origin: OriginResult;
  readonly attempts: number;
  readonly final: boolean;
}

/** An answer the origin accepted: 2xx or 3xx. */
export function originAccepted(origin: OriginResult): boolean {
  return origin.ok && origin.response.status < 400;
}

/** Worth another attempt: no answer, a timeout, a 5xx, 408 or 429. A 4xx is final. */
export function retryable(origin: OriginResult): boolean {
  if (!origin.ok) return true;
  const s = origin.response.status;
  return s >= 500 || s === 408 || s === 429;
}

