/**
 * The audit hub: one SQLite-backed Durable Object that every isolate sends its audit
 * events to (batched, after the response). It
 *   - keeps recent events for the dashboard and for tracing a decision (event-store.ts),
 *   - aggregates the metrics the dashboard and Prometheus read (src/metrics),
 *   - holds the outbox for remote sinks and delivers it with retries (outbox.ts),
 *   - derives `key.rotated` when a new signing key shows up (versions.ts).
 * Ingest is idempotent on event id: a retried batch is neither counted nor sent twice.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../shared/env.ts";
import { METRIC_SCHEMA, MetricStore, minuteOf } from "../../metrics/aggregate.ts";
import { type Increment, incrementsFor } from "../../metrics/from-event.ts";
import { renderPrometheus } from "../../metrics/prometheus.ts";
import { buildSummary, type DashboardSummary } from "../../metrics/summary.ts";
import { stamp } from "../auditor.ts";
import { type AuditConfig, readAuditConfig } from "../config.ts";
import type { AuditEvent } from "../events.ts";
import { logSink } from "../sinks/log.ts";
import { QUEUE_BATCH_LIMIT, sendToQueue } from "../sinks/queue.ts";
import { DeliveryError, postWebhook } from "../sinks/webhook.ts";
import { EVENT_SCHEMA, EventStore } from "./event-store.ts";
import { OUTBOX_SCHEMA, Outbox, type OutboxBatch, type RemoteSink, type SinkStatus } from "./outbox.ts";
import { VERSION_SCHEMA, Versions } from "./versions.ts";
import { LIVE_LIST_SCHEMA, LiveListTable } from "./live-lists.ts";
import type { LiveEntry } from "../../shared/live-list.ts";
import { feedSource, type ListSourceStatus } from "../../shared/list-sources.ts";
import { renderSourceMetrics } from "../../metrics/list-sources.ts";
import { SOURCE_STATUS_SCHEMA, SourceStatusTable } from "./source-status.ts";
import { type DecisionRow, decisionRow, type EventView, eventView, refusalRow } from "./views.ts";

/** One event and the remote sinks the hub must deliver it to. */
export interface HubEntry {
  readonly event: AuditEvent;
  readonly deliver: readonly RemoteSink[];
}

/** An idle sink's first batch waits this long for company. */
export const GATHER_MS = 1_000;
const SWEEP_EVERY_MS = 60 * 60 * 1000;
/** The hub's own source id for events it derives. */
export const HUB_SOURCE = "hub";

const NO_SINKS: AuditConfig = { format: "ocsf", webhook: null, queue: false };

/** Add `values` to the list under `key`. */
function append<K, V>(map: Map<K, V[]>, key: K, values: readonly V[]): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [...values]);
  else list.push(...values);
}

/** The Durable Object class (binding `RISKGATE_AUDIT`, one instance named `hub`). */
export class RiskgateAuditHub extends DurableObject<Env> {
  private readonly events: EventStore;
  private readonly outbox: Outbox;
  private readonly metrics: MetricStore;
  private readonly versions: Versions;
  private readonly liveLists: LiveListTable;
  private readonly sources: SourceStatusTable;
  private readonly log = logSink();
  private config: AuditConfig | undefined;
  private delivering = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`${EVENT_SCHEMA}${OUTBOX_SCHEMA}${METRIC_SCHEMA}${VERSION_SCHEMA}${LIVE_LIST_SCHEMA}${SOURCE_STATUS_SCHEMA}
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER);`);
    this.events = new EventStore(sql);
    this.outbox = new Outbox(sql);
    this.metrics = new MetricStore(sql);
    this.versions = new Versions(sql);
    this.liveLists = new LiveListTable(sql);
    this.sources = new SourceStatusTable(sql);
  }

  /** Record a batch of events from an isolate. */
  async ingest(entries: readonly HubEntry[]): Promise<void> {
    const now = Date.now();
    const derived: AuditEvent[] = [];
    // Increments of the whole batch, merged per minute: one upsert per series, not per event.
    const byMinute = new Map<number, Increment[]>();
    const bySink = new Map<RemoteSink, AuditEvent[]>();
    const record = (event: AuditEvent, deliver: readonly RemoteSink[]) => {
      // A retried batch: already stored, counted and queued.
      if (!this.events.insert(event)) return false;
      const minute = minuteOf(Date.parse(event.ts));
      append(byMinute, minute, incrementsFor(event));
      for (const sink of deliver) append(bySink, sink, [event]);
      return true;
    };
    this.ctx.storage.transactionSync(() => {
      for (const { event, deliver } of entries) {
        if (record(event, deliver)) derived.push(...this.derive(event, now));
      }
      for (const event of derived) record(event, this.hubSinks());
      for (const [minute, increments] of byMinute) this.metrics.apply(increments, minute);
      for (const [sink, events] of bySink) this.outbox.append(sink, events, now, now + GATHER_MS);
    });
    this.log.write(derived);
    await this.schedule(now);
  }

  /** Deliver every due outbox batch (the alarm calls this; tests pass their own clock). */
  async deliver(now: number = Date.now()): Promise<SinkStatus[]> {
    if (this.delivering) return this.outbox.status(now);
    this.delivering = true;
    try {
      for (const sink of this.outbox.due(now)) {
        const batch = this.outbox.take(sink, sink === "queue" ? QUEUE_BATCH_LIMIT : (this.sinkConfig().webhook?.batchSize ?? 500));
        try {
          await this.send(batch);
          this.outbox.ack(batch, now);
        } catch (err) {
          this.outbox.fail(sink, err instanceof DeliveryError ? err.code : `${sink.toUpperCase()}_FAILED`, now);
        }
      }
    } finally {
      this.delivering = false;
    }
    await this.schedule(now);
    return this.outbox.status(now);
  }

  /** The dashboard's panels over the last `minutes`. */
  async summary(minutes: number): Promise<DashboardSummary> {
    const now = Date.now();
    return buildSummary(this.metrics.since(now - (minutes - 1) * 60_000), {
      now,
      minutes,
      sinks: this.outbox.status(now),
      versions: this.versions.list(),
    });
  }

  /** The newest decisions with their explanation and related event ids. */
  async decisions(limit: number): Promise<DecisionRow[]> {
    // A flood's refusals arrive as one tallied `ratelimit.refused` event: it is a row too,
    // with its count, so 20 refused requests read as 20 decisions, not 0.
    return this.events.recent(["decision", "ratelimit.refused"], limit).flatMap((event) => {
      if (event.type === "ratelimit.refused") return [refusalRow(event)];
      if (event.type !== "decision") return [];
      const related = event.decision_id === null ? [event] : this.events.forDecision(event.decision_id);
      return [decisionRow(event, related)];
    });
  }

  /** Unexpired live list entries (every isolate reads them, at most once per refresh interval). */
  async listEntries(now: number = Date.now()): Promise<LiveEntry[]> {
    return this.liveLists.list(now);
  }

  /** Add or replace a live entry; the entries after the change. */
  async putListEntry(entry: LiveEntry): Promise<LiveEntry[]> {
    this.liveLists.put(entry);
    return this.liveLists.list(Date.now());
  }

  /** Remove a live entry; what was removed (null: nothing) and the entries after. */
  async removeListEntry(target: string, list: string): Promise<{ removed: LiveEntry | null; entries: LiveEntry[] }> {
    const removed = this.liveLists.remove(target, list);
    return { removed, entries: this.liveLists.list(Date.now()) };
  }

  /**
   * A source's refresh (src/audit/list-refresh.ts): replace its whole set (`delta` null) or
   * apply a delta, and record the success, atomically. A set too large to hold fails the
   * refresh (SOURCE_TOO_LARGE) and keeps the last good copy.
   */
  async storeSource(
    id: string,
    list: string,
    entries: readonly LiveEntry[],
    delta: { readonly removed: readonly { target: string; list: string }[] } | null,
    excluded: number,
    now: number = Date.now(),
  ): Promise<ListSourceStatus | undefined> {
    try {
      this.ctx.storage.transactionSync(() => {
        if (delta === null) this.liveLists.replaceSource(feedSource(id), entries);
        else this.liveLists.applySourceDelta(feedSource(id), entries, delta.removed);
        this.sources.succeeded(id, list, now, excluded);
      });
    } catch (err) {
      this.sources.failed(id, list, now, `SOURCE_TOO_LARGE: ${err instanceof Error ? err.message : String(err)}`, false);
    }
    return (await this.sourceStatus(now)).find((s) => s.id === id);
  }

  /** A failed refresh: the source's entries stay until they expire. `resync`: its next poll starts over. */
  async sourceFailed(id: string, list: string, error: string, resync: boolean, now: number = Date.now()): Promise<ListSourceStatus | undefined> {
    this.sources.failed(id, list, now, error, resync);
    return (await this.sourceStatus(now)).find((s) => s.id === id);
  }

  /** Whether an incremental source (CrowdSec) holds a full set to apply deltas to. */
  async sourceSynced(id: string): Promise<boolean> {
    return this.sources.synced(id);
  }

  /** Every refreshed source's status (dashboard, metrics). */
  async sourceStatus(now: number = Date.now()): Promise<ListSourceStatus[]> {
    return this.sources.list((id) => this.liveLists.countSource(feedSource(id), now));
  }

  /** One event by id, native and OCSF. */
  async event(id: string): Promise<EventView | null> {
    const event = this.events.get(id);
    return event === null ? null : eventView(event);
  }

  /** Every event of one decision. */
  async eventsOf(decisionId: string): Promise<EventView[]> {
    return this.events.forDecision(decisionId).map(eventView);
  }

  /** Prometheus text of the running totals and the outbox gauges. */
  async prometheus(): Promise<string> {
    const now = Date.now();
    return `${renderPrometheus(this.metrics.totals(), this.outbox.status(now))}${renderSourceMetrics(await this.sourceStatus(now))}`;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    if (now - this.meta("last_sweep") >= SWEEP_EVERY_MS) {
      this.events.sweep(now);
      this.metrics.sweep(now);
      this.liveLists.sweep(now);
      this.setMeta("last_sweep", now);
    }
    await this.deliver(now);
  }

  /** Events the hub derives from what it sees. */
  private derive(event: AuditEvent, now: number): AuditEvent[] {
    const at = Date.parse(event.ts);
    if (event.type === "ruleset.loaded") this.versions.see("ruleset", event.data.version, at);
    if (event.type !== "key.in_use") return [];
    const previous = this.versions.see("key", event.data.kid, at);
    if (previous === null) return [];
    const seq = this.meta("seq") + 1;
    this.setMeta("seq", seq);
    const input = { type: "key.rotated", request_id: null, decision_id: null, at, data: { kid: event.data.kid, previous } } as const;
    return [stamp(input, { source: HUB_SOURCE, seq, id: crypto.randomUUID(), rules: event.rules, now })];
  }

  private async send(batch: OutboxBatch): Promise<void> {
    const config = this.sinkConfig();
    if (batch.sink === "queue") {
      if (this.env.AUDIT_QUEUE === undefined) throw new DeliveryError("QUEUE_NOT_BOUND");
      await sendToQueue(this.env.AUDIT_QUEUE, batch.events, config.format).catch(() => {
        throw new DeliveryError("QUEUE_UNAVAILABLE");
      });
      return;
    }
    if (config.webhook === null) throw new DeliveryError("WEBHOOK_NOT_CONFIGURED");
    const batchId = `${this.ctx.id.toString().slice(0, 12)}-${batch.ids[0]}-${batch.ids.at(-1)}`;
    // The signature's timestamp is the wall clock even when a test drives the schedule:
    // receivers compare it with their own clock to refuse replays.
    await postWebhook(batch.events, batchId, {
      config: config.webhook,
      format: config.format,
      fetcher: (input, init) => fetch(input, init),
      now: Date.now(),
    });
  }

  /** Remote sinks for events the hub itself emits. */
  private hubSinks(): RemoteSink[] {
    const config = this.sinkConfig();
    return [...(config.webhook === null ? [] : ["webhook" as const]), ...(config.queue ? ["queue" as const] : [])];
  }

  private sinkConfig(): AuditConfig {
    if (this.config === undefined) {
      try {
        this.config = readAuditConfig(this.env);
      } catch (err) {
        console.error(JSON.stringify({ type: "riskgate.config_error", message: String(err) }));
        this.config = NO_SINKS;
      }
    }
    return this.config;
  }

  /** Wake up for the next due delivery or the hourly sweep, whichever comes first. */
  private async schedule(now: number): Promise<void> {
    const due = this.outbox.nextDue();
    const sweep = this.meta("last_sweep") + SWEEP_EVERY_MS;
    const next = Math.max(now, Math.min(due ?? Number.POSITIVE_INFINITY, sweep));
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  private meta(key: string): number {
    return this.ctx.storage.sql.exec<{ v: number }>("SELECT v FROM meta WHERE k = ?", key).toArray()[0]?.v ?? 0;
  }

  private setMeta(key: string, value: number): void {
    this.ctx.storage.sql.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", key, value);
  }
}
