/**
 * The durable path of audit events, run by each isolate inside waitUntil:
 *   1. the Cloudflare Queue, sent directly when bound (durable once accepted);
 *   2. the audit hub (a Durable Object), which records, aggregates and keeps the
 *      outbox for the webhook, and for queue sends that failed in step 1.
 * Hub calls are coalesced per isolate: events emitted within `windowMs` of each other
 * go in one RPC. Nothing waits in memory without a pending waitUntil holding it: the
 * `write` that opens a window awaits its flush (inside that request's waitUntil), and
 * the writes that join the window return at once. Making every request await the shared
 * flush kept each request's context alive until the RPC and cost ~150 µs of CPU per
 * request in workerd (BENCHMARKS.md); a failed flush is reported once, through the
 * write that opened it.
 */
import type { AuditSink } from "../auditor.ts";
import type { AuditEvent } from "../events.ts";
import type { HubEntry } from "../hub/object.ts";
import type { RemoteSink } from "../hub/outbox.ts";
import type { AuditFormat } from "./format.ts";
import { type QueueSender, sendToQueue } from "./queue.ts";

/** The slice of the hub stub the isolate uses. */
export interface HubIngest {
  ingest(entries: readonly HubEntry[]): Promise<void>;
}

/** What the durable sink needs. */
export interface DurableSinkOptions {
  readonly hub: () => HubIngest;
  readonly queue: QueueSender | null;
  readonly webhook: boolean;
  readonly format: AuditFormat;
  /** How long a flush waits for more events (default 20 ms). */
  readonly windowMs?: number;
  /** Delays before each retry of a failed hub call (default 50 ms, 250 ms). */
  readonly retryDelaysMs?: readonly number[];
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Build the sink. */
export function durableSink(options: DurableSinkOptions): AuditSink {
  const { hub, queue, webhook, format, windowMs = 20, retryDelaysMs = [50, 250], sleep = realSleep } = options;
  let pending: HubEntry[] = [];
  let flushing: Promise<void> | null = null;

  async function flush(): Promise<void> {
    await sleep(windowMs);
    const batch = pending;
    pending = [];
    flushing = null;
    for (let attempt = 0; ; attempt++) {
      try {
        // Idempotent on event ids, so a retry after a lost reply counts nothing twice.
        return await hub().ingest(batch);
      } catch (err) {
        const delay = retryDelaysMs[attempt];
        if (delay === undefined) throw err;
        await sleep(delay);
      }
    }
  }

  return {
    name: "hub",
    async write(events: readonly AuditEvent[]) {
      const deliver: RemoteSink[] = webhook ? ["webhook"] : [];
      if (queue !== null) {
        try {
          await sendToQueue(queue, events, format);
        } catch {
          deliver.push("queue");
        }
      }
      pending.push(...events.map((event) => ({ event, deliver })));
      if (flushing !== null) return;
      flushing = flush();
      await flushing;
    },
  };
}
