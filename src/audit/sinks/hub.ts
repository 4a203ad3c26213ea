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
 * With several hub shards (AUDIT_HUB_SHARDS) a flush is one RPC per shard its events
 * belong to (src/audit/hub/shards.ts), sent in parallel, each retried on its own.
 */
import type { AuditSink } from "../auditor.ts";
import type { AuditEvent } from "../events.ts";
import type { HubEntry } from "../hub/object.ts";
import type { RemoteSink } from "../hub/outbox.ts";
import { hubShardOf } from "../hub/shards.ts";
import type { AuditFormat } from "./format.ts";
import { type QueueSender, sendToQueue } from "./queue.ts";

/** The slice of the hub stub the isolate uses. */
export interface HubIngest {
  ingest(entries: readonly HubEntry[]): Promise<void>;
}

/** What the durable sink needs. */
export interface DurableSinkOptions {
  /** Hub shard `n` (0 when there is one). */
  readonly hub: (shard: number) => HubIngest;
  /** How many hub shards there are (default 1). */
  readonly shards?: number;
  readonly queue: QueueSender | null;
  readonly webhook: boolean;
  readonly format: AuditFormat;
  /** How long a flush waits for more events (default HUB_WINDOW_MS). */
  readonly windowMs?: number;
  /** Delays before each retry of a failed hub call (default 50 ms, 250 ms). */
  readonly retryDelaysMs?: readonly number[];
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * How long an isolate's first event waits for company before the hub RPC. The hub's cost per
 * event falls with the batch (a transaction, the metric upserts and the RPC per flush):
 * 100 ms rather than 20 ms took the benchmark's scenario (b) from ~50 to ~105–130 events per RPC
 * (BENCHMARKS.md, "The audit hub's ingest"). The dashboard sees an event at most this much later.
 */
export const HUB_WINDOW_MS = 100;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Build the sink. */
export function durableSink(options: DurableSinkOptions): AuditSink {
  const { hub, queue, webhook, format, shards = 1, windowMs = HUB_WINDOW_MS, retryDelaysMs = [50, 250], sleep = realSleep } = options;
  let pending: HubEntry[] = [];
  let flushing: Promise<void> | null = null;

  async function flush(): Promise<void> {
    await sleep(windowMs);
    const batch = pending;
    pending = [];
    flushing = null;
    if (shards === 1) return send(0, batch);
    const byShard = new Map<number, HubEntry[]>();
    for (const entry of batch) {
      const n = hubShardOf(entry.event, shards);
      const list = byShard.get(n);
      if (list === undefined) byShard.set(n, [entry]);
      else list.push(entry);
    }
    const sent = await Promise.allSettled([...byShard].map(([n, entries]) => send(n, entries)));
    const failed = sent.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  async function send(shard: number, entries: HubEntry[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // Idempotent on event ids, so a retry after a lost reply counts nothing twice.
        return await hub(shard).ingest(entries);
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
