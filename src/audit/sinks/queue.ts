/**
 * Cloudflare Queue producer sink. The isolate sends directly (Queues are durable once
 * `sendBatch` resolves); when the send fails, the events go to the audit hub's outbox
 * and the hub retries them, so a queue outage loses nothing.
 */
import type { AuditEvent } from "../events.ts";
import { type AuditFormat, formatEvent } from "./format.ts";

/** The slice of the Queue binding riskgate uses. */
export type QueueSender = Pick<Queue, "sendBatch">;

/** Messages per `sendBatch` call (the platform's limit). */
export const QUEUE_BATCH_LIMIT = 100;

/** Send events in chunks of QUEUE_BATCH_LIMIT; rejects when any chunk fails. */
export async function sendToQueue(queue: QueueSender, events: readonly AuditEvent[], format: AuditFormat): Promise<void> {
  for (let i = 0; i < events.length; i += QUEUE_BATCH_LIMIT) {
    const chunk = events.slice(i, i + QUEUE_BATCH_LIMIT);
    await queue.sendBatch(chunk.map((e) => ({ body: formatEvent(e, format), contentType: "json" as const })));
  }
}
