/**
 * Delivering an allowed reset to the origin after the client has its answer
 * (docs/architecture.md, "Why the reset answers before the origin"). The client gets the
 * uniform 202 at once, whatever the verdict, so neither the origin's speed per account
 * nor a silent deny shows in the response time; the forward then runs inside waitUntil
 * and is retried with backoff when the origin is down, slow or answers 5xx:
 *
 * - with a `RESET_QUEUE` binding, the first attempt runs in the request's waitUntil and a
 *   failed one goes to the queue, whose consumer (the Worker's `queue()` handler) retries;
 *   the message's client parts (headers, body with the email, address) are encrypted
 *   (src/reset/queue-seal.ts), and one the consumer cannot decrypt is a lost reset;
 * - without one, up to `IN_REQUEST_ATTEMPTS` attempts run in the request's waitUntil.
 *
 * Each attempt signs the decision anew (the token lives 60 s) with the same `jti` and the
 * same `Riskgate-Decision-Id` header: the origin de-duplicates on it (README, "The
 * origin's side"). The final outcome is one `forward` audit event (attempts, status,
 * `lost`), and a lost reset counts in `riskgate_resets_lost_total`.
 */
import { backoffDelay } from "../audit/backoff.ts";
import type { AuditInput } from "../audit/events.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { DECISION_HEADER, signDecision } from "../origin/decision-token.ts";
import { forward, type OriginResult } from "../origin/forward.ts";
import { DECISION_ID_HEADER, type ForwardJob, type ForwardOutcome, retryable } from "./forward-job.ts";
import { openJob, type QueuedForward, sealJob } from "./queue-seal.ts";
import { forwardData } from "./record.ts";

export { DECISION_ID_HEADER, type ForwardJob, type ForwardOutcome } from "./forward-job.ts";
export type { QueuedForward } from "./queue-seal.ts";

/** The fail mode of a queued reset the consumer cannot decrypt (key rotated, message altered): lost, counted. */
export const QUEUE_MESSAGE_UNREADABLE = "QUEUE_MESSAGE_UNREADABLE";

/** Attempts within the request's waitUntil when no queue is bound. */
export const IN_REQUEST_ATTEMPTS = 3;
/** Attempts in all (the request's first plus the queue's) when a queue is bound. */
export const QUEUE_ATTEMPTS = 6;
/** Backoff between attempts in the request's waitUntil (short: waitUntil is bounded). */
export const IN_REQUEST_BACKOFF = { baseMs: 250, maxMs: 2_000 } as const;
/** Backoff between the queue's attempts, in seconds of queue delay. */
export const QUEUE_BACKOFF = { baseMs: 2_000, maxMs: 60_000 } as const;

/** One signed attempt; the origin's body is read to its end (keeps the connection). */
export async function attemptForward(job: ForwardJob, gateway: Pick<Gateway, "config" | "ruleset" | "keys" | "fetcher" | "now">): Promise<OriginResult> {
  const token = await signDecision(
    job.decision,
    job.accountKey,
    gateway.config.originUrl.origin,
    gateway.keys,
    Math.floor(gateway.now() / 1000),
    job.extra,
  );
  const origin = await forward(
    { method: job.method, url: job.url, headers: job.headers as [string, string][] },
    job.body as Uint8Array<ArrayBuffer> | null,
    { [DECISION_HEADER]: token, [DECISION_ID_HEADER]: job.decision.id },
    {
      originUrl: gateway.config.originUrl,
      clientIp: job.clientIp,
      timeoutMs: gateway.ruleset.originTimeoutMs,
      fetcher: gateway.fetcher,
    },
  );
  if (origin.ok) await drain(origin.response.body);
  return origin;
}

/** Wait `ms` (injected in tests). */
export type Sleep = (ms: number) => Promise<void>;
const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The delivery that runs in the request's waitUntil: with a queue, one attempt then the
 * queue; without, up to IN_REQUEST_ATTEMPTS with backoff.
 */
export async function deliverInRequest(
  job: ForwardJob,
  gateway: Pick<Gateway, "config" | "ruleset" | "keys" | "fetcher" | "now">,
  queue: Queue<QueuedForward> | null,
  wait: Sleep = sleep,
): Promise<ForwardOutcome> {
  const limit = queue === null ? IN_REQUEST_ATTEMPTS : 1;
  let attempts = 0;
  for (;;) {
    const origin = await attemptForward(job, gateway);
    attempts++;
    if (!retryable(origin)) return { origin, attempts, final: true };
    if (attempts >= limit) {
      if (queue === null) return { origin, attempts, final: true };
      try {
        // Sealed: the message waits on the queue for minutes and the body holds the email.
        await queue.send(await sealJob(job, gateway.config.hmacSecret), { delaySeconds: Math.ceil(backoffDelay(1, QUEUE_BACKOFF) / 1000) });
        return { origin, attempts, final: false };
      } catch {
        // The queue refused it: this was the last chance.
        return { origin, attempts, final: true };
      }
    }
    await wait(backoffDelay(attempts, IN_REQUEST_BACKOFF));
  }
}

/** Read a body to its end without keeping it; an origin that aborts mid-body is ignored. */
export async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (body === null) return;
  const reader = body.getReader();
  try {
    for (;;) {
      if ((await reader.read()).done) return;
    }
  } catch {
    // The origin went away mid-body: its answer was already logged; the client's is fixed.
  }
}

/** The final `forward` event of a delivery the queue finished. */
function forwardEvent(job: ForwardJob, gateway: Pick<Gateway, "config">, outcome: ForwardOutcome): AuditInput {
  return {
    type: "forward",
    request_id: job.requestId,
    decision_id: job.decision.id,
    data: forwardData(gateway.config.originUrl, job.respond, outcome),
  };
}

/** The final `forward` event of a queued reset that could not be decrypted. */
function unreadableEvent(message: QueuedForward, gateway: Pick<Gateway, "config">, attempts: number): AuditInput {
  return {
    type: "forward",
    request_id: message.requestId,
    decision_id: message.decision.id,
    data: { origin: gateway.config.originUrl.origin, ok: false, status: null, error: QUEUE_MESSAGE_UNREADABLE, ms: 0, respond: message.respond, attempts, lost: true },
  };
}

/**
 * The `RESET_QUEUE` consumer (the Worker's `queue()` handler): one attempt per message
 * delivery; a retryable failure goes back with a longer delay until QUEUE_ATTEMPTS in
 * all, then the final outcome is recorded (a lost reset when the origin never took it).
 */
export async function retryForwards(batch: MessageBatch<QueuedForward>, gateway: Gateway): Promise<void> {
  for (const message of batch.messages) {
    // The request made the first attempt; the queue's deliveries are the next ones.
    const attempts = 1 + message.attempts;
    const job = await openJob(message.body, gateway.config.hmacSecret);
    if (job === null) {
      // Not readable with this secret: no retry can help. A lost reset, counted.
      await gateway.audit.emit(unreadableEvent(message.body, gateway, attempts));
      message.ack();
      continue;
    }
    const origin = await attemptForward(job, gateway);
    if (retryable(origin) && attempts < QUEUE_ATTEMPTS) {
      message.retry({ delaySeconds: Math.ceil(backoffDelay(attempts, QUEUE_BACKOFF) / 1000) });
      continue;
    }
    await gateway.audit.emit(forwardEvent(job, gateway, { origin, attempts, final: true }));
    message.ack();
  }
}
