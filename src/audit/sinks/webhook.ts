/**
 * The SIEM webhook: a batch of events POSTed as JSON, signed with HMAC-SHA-256
 * (signature.ts), under a timeout. Any non-2xx answer, network error or timeout is a
 * failure the outbox retries with backoff; delivery is therefore at least once and
 * receivers de-duplicate on the event id.
 */
import type { AuditEvent } from "../events.ts";
import { SIGNATURE_HEADER, signBody } from "../signature.ts";
import { type AuditFormat, formatEvent } from "./format.ts";

/** Webhook settings (AUDIT_WEBHOOK_* in docs/configuration.md). */
export interface WebhookConfig {
  readonly url: URL;
  readonly secret: string;
  readonly timeoutMs: number;
  readonly batchSize: number;
}

/** Header naming the batch (stable across retries of the same rows). */
export const BATCH_HEADER = "Riskgate-Batch";

/** A delivery that did not succeed; `code` is what the dashboard shows. */
export class DeliveryError extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = "DeliveryError";
  }
}

/** The request body a receiver gets. */
export interface WebhookBody {
  readonly batch: string;
  readonly format: AuditFormat;
  readonly sent_at: string;
  readonly events: readonly unknown[];
}

/** POST one batch; resolves on 2xx, throws DeliveryError otherwise. */
export async function postWebhook(
  events: readonly AuditEvent[],
  batchId: string,
  options: { config: WebhookConfig; format: AuditFormat; fetcher: typeof fetch; now: number },
): Promise<void> {
  const { config, format, fetcher, now } = options;
  const body: WebhookBody = {
    batch: batchId,
    format,
    sent_at: new Date(now).toISOString(),
    events: events.map((e) => formatEvent(e, format)),
  };
  const text = JSON.stringify(body);
  let response: Response;
  try {
    response = await fetcher(config.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "riskgate-audit/1",
        [BATCH_HEADER]: batchId,
        [SIGNATURE_HEADER]: await signBody(config.secret, text, Math.floor(now / 1000)),
      },
      body: text,
      signal: AbortSignal.timeout(config.timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof DOMException && (err.name === "TimeoutError" || err.name === "AbortError");
    throw new DeliveryError(timedOut ? "WEBHOOK_TIMEOUT" : "WEBHOOK_UNAVAILABLE");
  }
  // Drain the body so the connection is released.
  await response.body?.cancel();
  if (!response.ok) throw new DeliveryError(`WEBHOOK_HTTP_${response.status}`);
}
