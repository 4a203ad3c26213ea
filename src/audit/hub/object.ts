/**
 * The audit hub: SQLite-backed Durable Objects that every isolate sends its audit
 * events to (batched, after the response), one or more shards (shards.ts: which event goes
 * where; shard 0, named `hub`, also holds the live lists). Each shard
 *   - keeps recent events for the dashboard and for tracing a decision (event-store.ts),
 *   - aggregates the metrics the dashboard and Prometheus read (src/metrics),
 *   - holds the outbox for remote sinks and delivers it with retries (outbox.ts),
 *   - derives `key.rotated` when a new signing key shows up (versions.ts).
 * Ingest is idempotent on event id: a retried batch is neither counted nor sent twice.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../shared/env.ts";
import { eventId } from "../../shared/event-id.ts";
import { METRIC_SCHEMA, type MinuteValue, MetricStore, minuteOf, type SeriesValue } from "../../metrics/aggregate.ts";
import { type Increment, incrementsFor } from "../../metrics/from-event.ts";
import { renderPrometheus } from "../../metrics/prometheus.ts";
import { buildSummary, type DashboardSummary } from "../../metrics/summary.ts";
import { stamp } from "../auditor.ts";
import { type AuditConfig, DEFAULT_HUB_MAX_EVENTS, readAuditConfig, readHubConfig } from "../config.ts";
import type { AuditEvent } from "../events.ts";
import { logSink } from "../sinks/log.ts";
import { QUEUE_BATCH_LIMIT, sendToQueue } from "../sinks/queue.ts";
import { DeliveryError, postWebhook } from "../sinks/webhook.ts";
import { EVENT_NEAR_CAP, EVENT_SCHEMA, EventStore } from "./event-store.ts";
import { OUTBOX_SCHEMA, Outbox, type OutboxBatch, type RemoteSink, type SinkStatus } from "./outbox.ts";
import { VERSION_SCHEMA, type VersionSeen, Versions } from "./versions.ts";
import { LIVE_LIST_SCHEMA, LiveListTable } from "./live-lists.ts";
import type { LiveEntry, LiveLayer, LiveLift } from "../../shared/live-list.ts";
import { type DecisionRow, decisionExport, decisionRow, type EventView, eventView, refusalRow } from "./views.ts";
import type { DecisionLogLine, OutcomeLogLine } from "../decision-log.ts";
import { feedSource, type ListSourceStatus } from "../../shared/list-sources.ts";
import { renderSourceMetrics } from "../../metrics/list-sources.ts";
import { SOURCE_STATUS_SCHEMA, SourceStatusTable } from "./source-status.ts";

/** One event and the remote sinks the hub must deliver it to. */
export interface HubEntry {
  readonly event: AuditEvent;
  readonly deliver: readonly RemoteSink[];
}

/** An idle sink's first batch waits this long for company. */
export const GATHER_MS = 1_000;
const SWEEP_EVERY_MS = 60 * 60 * 1000;
/** The meta row holding the live layer's version (bumped by every write to it). */
const LIVE_VERSION = "live_version";
/** The hub's own source id for events it derives (only shard 0 derives: shards.ts). */
export const HUB_SOURCE = "hub";
/** The near-cap line is written at most this often per shard. */
const NEAR_CAP_LOG_EVERY_MS = 5 * 60 * 1000;
/** The object's size is read for the near-cap check at most this often (rows: every ingest). */
const SIZE_CHECK_EVERY_MS = 10 * 1000;
/**
 * Cloudflare's storage limit per SQLite Durable Object. Events are capped in rows, but the
 * outbox is not (a sink that is down loses nothing), so the size is watched too.
 */
export const OBJECT_STORAGE_LIMIT_BYTES = 10 * 1024 ** 3;

/** What one hub shard holds, for the near-cap log line, the scale bench and tests. */
export interface HubStats {
  readonly shard: string;
  readonly events: number;
  readonly cap: number;
  /** Events dropped to stay under the cap since the object started. */
  readonly evicted: number;
  /** The object's SQLite size in bytes (ctx.storage.sql.databaseSize). */
  readonly databaseSize: number;
  /** The size the near-cap line is measured against (OBJECT_STORAGE_LIMIT_BYTES). */
  readonly sizeLimit: number;
}

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
  private nearCapLogged = 0;
  /** When the object's size was last read for the near-cap check (a native call; not per ingest). */
  private sizeChecked = 0;
  private sizeLimit = OBJECT_STORAGE_LIMIT_BYTES;
  /**
   * The alarm this object set, as far as it knows: undefined until read once after start,
   * null when none is set (it fired). Read and set per ingest before, a storage call each.
   */
  private alarmAt: number | null | undefined = undefined;
  /** The last sweep's time (the `last_sweep` meta row), read once after start. */
  private lastSweep: number | undefined = undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`${EVENT_SCHEMA}${OUTBOX_SCHEMA}${METRIC_SCHEMA}${VERSION_SCHEMA}${LIVE_LIST_SCHEMA}${SOURCE_STATUS_SCHEMA}
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER);`);
    this.events = new EventStore(sql, this.maxEvents());
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
    // Increments of the whole batch by minute: merged per series, then upserted in a few statements.
    const byMinute = new Map<number, Increment[]>();
    // The outbox gets the JSON text the events table stored: each event is serialised once.
    const bySink = new Map<RemoteSink, string[]>();
    // Count and queue the events stored now; an id already stored (a retried batch) is
    // already counted and queued. Each id is taken once, so a repeat within a batch is skipped too.
    const record = (event: AuditEvent, deliver: readonly RemoteSink[], stored: Map<string, string>) => {
      const body = stored.get(event.id);
      if (body === undefined) return false;
      stored.delete(event.id);
      append(byMinute, minuteOf(Date.parse(event.ts)), incrementsFor(event));
      for (const sink of deliver) append(bySink, sink, [body]);
      return true;
    };
    this.ctx.storage.transactionSync(() => {
      const stored = this.events.insert(entries.map((e) => e.event));
      for (const { event, deliver } of entries) {
        if (record(event, deliver, stored)) derived.push(...this.derive(event, now));
      }
      if (derived.length > 0) {
        const storedDerived = this.events.insert(derived);
        const sinks = this.hubSinks();
        for (const event of derived) record(event, sinks, storedDerived);
      }
      this.metrics.apply(byMinute);
      for (const [sink, bodies] of bySink) this.outbox.append(sink, bodies, now, now + GATHER_MS);
      this.events.enforceCap();
    });
    this.warnNearCap(now);
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

  /** This shard's share of the dashboard's panels (shards.ts merges them). */
  async summaryParts(minutes: number, now: number = Date.now()): Promise<{ rows: MinuteValue[]; sinks: SinkStatus[]; versions: VersionSeen[] }> {
    return { rows: this.metrics.since(now - (minutes - 1) * 60_000), sinks: this.outbox.status(now), versions: this.versions.list() };
  }

  /** This shard's running totals and outbox gauges (shards.ts merges them). */
  async totalsParts(): Promise<{ totals: SeriesValue[]; sinks: SinkStatus[] }> {
    return { totals: this.metrics.totals(), sinks: this.outbox.status(Date.now()) };
  }

  /** Rows against the cap and the SQLite size. */
  async stats(): Promise<HubStats> {
    return {
      shard: this.shardName(),
      events: this.events.rows,
      cap: this.events.cap,
      evicted: this.events.evicted,
      databaseSize: this.ctx.storage.sql.databaseSize,
      sizeLimit: this.sizeLimit,
    };
  }

  /** Lower this shard's limits (tests and the scale bench; deployments set AUDIT_HUB_MAX_EVENTS). */
  async setLimits(limits: { events?: number; sizeBytes?: number }): Promise<void> {
    if (limits.events !== undefined) this.events.cap = limits.events;
    if (limits.sizeBytes !== undefined) {
      this.sizeLimit = limits.sizeBytes;
      this.sizeChecked = 0;
    }
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

  /**
   * Decisions at or after `sinceMs`, oldest first, as decision log lines with their
   * outcomes (`riskgate decisions export`); `cursor` is the previous page's `next`.
   */
  async exportDecisions(sinceMs: number, cursor: string | null, limit: number): Promise<{ lines: (DecisionLogLine | OutcomeLogLine)[]; next: string | null }> {
    const [at, rowid] = (cursor ?? "").split(".").map(Number);
    const after = cursor === null || !Number.isInteger(at) || !Number.isInteger(rowid) ? null : { at: at as number, rowid: rowid as number };
    const page = this.events.page("decision", sinceMs, after, limit);
    const lines = page.events.flatMap((event) => {
      if (event.type !== "decision") return [];
      const { line, outcomes } = decisionExport(event, event.decision_id === null ? [event] : this.events.forDecision(event.decision_id));
      return [line, ...outcomes];
    });
    // A short page is the last one.
    const next = page.last === null || page.events.length < limit ? null : `${page.last.at}.${page.last.rowid}`;
    return { lines, next };
  }

  /** Unexpired live list entries (the admin API's listing). */
  async listEntries(now: number = Date.now()): Promise<LiveEntry[]> {
    return this.liveLists.list(now);
  }

  /**
   * The live layer for an isolate that holds version `known` (null: none yet): null when it
   * is unchanged, so an isolate's refresh every LIVE_REFRESH_MS reads one row, not every
   * entry (BENCHMARKS.md, "Live lists"). Expiry needs no re-read: lookups check expires_at.
   */
  async liveLayer(known: number | null, now: number = Date.now()): Promise<LiveLayer | null> {
    const version = this.meta(LIVE_VERSION);
    if (known === version) return null;
    return { version, entries: this.liveLists.list(now), lifts: this.liveLists.lifts(now) };
  }

  /** Add or replace a live entry; the entries after the change. */
  async putListEntry(entry: LiveEntry): Promise<LiveEntry[]> {
    this.ctx.storage.transactionSync(() => {
      this.liveLists.put(entry);
      this.bumpLiveVersion();
    });
    return this.liveLists.list(Date.now());
  }

  /** Remove a live entry; what was removed (null: nothing) and the entries after. */
  async removeListEntry(target: string, list: string): Promise<{ removed: LiveEntry | null; entries: LiveEntry[] }> {
    const removed = this.ctx.storage.transactionSync(() => {
      const row = this.liveLists.remove(target, list);
      if (row !== null) this.bumpLiveVersion();
      return row;
    });
    return { removed, entries: this.liveLists.list(Date.now()) };
  }

  /** Record an operator's penalty lift, so every isolate drops its cached blocks for the key on its next refresh. */
  async recordLift(lift: LiveLift): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      this.liveLists.putLift(lift);
      this.bumpLiveVersion();
    });
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
        const source = feedSource(id);
        // An unchanged set writes nothing and keeps the version, so no isolate reloads the
        // layer for it (live-lists.ts, `changesSource`: renewals are written when due).
        if (this.sourceChanges(source, entries, delta, now)) {
          if (delta === null) this.liveLists.replaceSource(source, entries);
          else this.liveLists.applySourceDelta(source, entries, delta.removed);
          this.bumpLiveVersion();
        }
        this.sources.succeeded(id, list, now, excluded);
      });
    } catch (err) {
      this.sources.failed(id, list, now, `SOURCE_TOO_LARGE: ${err instanceof Error ? err.message : String(err)}`, false);
    }
    return (await this.sourceStatus(now)).find((s) => s.id === id);
  }

  /** Whether a source's refresh changes the layer: a delta that removes a held row always does. */
  private sourceChanges(source: string, entries: readonly LiveEntry[], delta: { readonly removed: readonly { target: string; list: string }[] } | null, now: number): boolean {
    if (delta !== null && delta.removed.some((r) => this.liveLists.holds(source, r.target, r.list))) return true;
    return this.liveLists.changesSource(source, entries, delta === null, now);
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
    // The alarm that fired is no longer set; the next schedule sets one.
    this.alarmAt = null;
    const now = Date.now();
    if (now - this.sweptAt() >= SWEEP_EVERY_MS) {
      this.events.sweep(now);
      this.metrics.sweep(now);
      this.liveLists.sweep(now);
      this.setMeta("last_sweep", now);
      this.lastSweep = now;
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
    // Shard 0 is `hub`; were another shard ever to see a key, its sequence stays its own.
    return [stamp(input, { source: this.shardName(), seq, id: eventId(now), rules: event.rules, now })];
  }

  private shardName(): string {
    return this.ctx.id.name ?? HUB_SOURCE;
  }

  /**
   * Log `riskgate.audit_hub_near_cap` at 80 % of the row cap (events are about to be dropped,
   * oldest first) or of the object's storage limit (an outbox backlog growing toward 10 GB).
   */
  private warnNearCap(now: number): void {
    if (now - this.nearCapLogged < NEAR_CAP_LOG_EVERY_MS) return;
    const { rows, cap } = this.events;
    const nearRows = rows >= cap * EVENT_NEAR_CAP;
    // Rows are counted in memory; the size is a native call, read at most once a SIZE_CHECK_EVERY_MS.
    if (!nearRows && now - this.sizeChecked < SIZE_CHECK_EVERY_MS) return;
    this.sizeChecked = now;
    const databaseSize = this.ctx.storage.sql.databaseSize;
    const near = [...(nearRows ? ["rows"] : []), ...(databaseSize >= this.sizeLimit * EVENT_NEAR_CAP ? ["size"] : [])];
    if (near.length === 0) return;
    this.nearCapLogged = now;
    console.log(
      JSON.stringify({
        event: "riskgate.audit_hub_near_cap",
        shard: this.shardName(),
        near,
        rows,
        cap,
        evicted: this.events.evicted,
        databaseSize,
        sizeLimit: this.sizeLimit,
        outboxPending: this.outbox.status(now).reduce((n, s) => n + s.pending, 0),
      }),
    );
  }

  private maxEvents(): number {
    try {
      return readHubConfig(this.env).maxEvents;
    } catch (err) {
      console.error(JSON.stringify({ type: "riskgate.config_error", message: String(err) }));
      return DEFAULT_HUB_MAX_EVENTS;
    }
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
    const sweep = this.sweptAt() + SWEEP_EVERY_MS;
    const next = Math.max(now, Math.min(due ?? Number.POSITIVE_INFINITY, sweep));
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > next) {
      await this.ctx.storage.setAlarm(next);
      this.alarmAt = next;
    }
  }

  /** When the last sweep ran (0: never). */
  private sweptAt(): number {
    this.lastSweep ??= this.meta("last_sweep");
    return this.lastSweep;
  }

  private bumpLiveVersion(): void {
    this.setMeta(LIVE_VERSION, this.meta(LIVE_VERSION) + 1);
  }

  private meta(key: string): number {
    return this.ctx.storage.sql.exec<{ v: number }>("SELECT v FROM meta WHERE k = ?", key).toArray()[0]?.v ?? 0;
  }

  private setMeta(key: string, value: number): void {
    this.ctx.storage.sql.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", key, value);
  }
}
