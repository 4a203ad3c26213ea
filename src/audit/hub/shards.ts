/**
 * The audit hub, sharded (issue 17.5): AUDIT_HUB_SHARDS objects share the event load.
 *
 * Routing (what `hubShardOf` decides, in every isolate alike):
 *   - an event with a decision id goes to shard `fnv1a(decision_id) % shards`, so every
 *     event of one decision (decision, forward, challenge, outcome), whichever isolate or
 *     queue consumer emits it, lands in one shard and a decision's trail is one query;
 *   - an event without one (start-up `ruleset.loaded` / `key.in_use`, ...) goes to shard 0,
 *     which therefore alone sees signing keys and derives `key.rotated` (one rotation event,
 *     one `hub` sequence, as with one shard).
 * Shard 0 is the object named `hub` (the name the single hub always had), and it is also
 * the one home of the live list layer: operators' entries are never sharded.
 *
 * Sequence semantics (src/audit/sequence.ts) are per source and unordered: an isolate's
 * events split over shards reach the SIEM through several outboxes, which may reorder them
 * but never leaves a hole, so gap detection still holds.
 *
 * `AuditHubs` is what the admin API reads: each view merged over the shards.
 */
import { shardOf } from "../../store/durable-object-store.ts";
import type { DashboardSummary, DecisionRow, EventView, SinkStatus } from "../api-types.ts";
import type { DecisionLogLine, OutcomeLogLine } from "../decision-log.ts";
import type { AuditEvent } from "../events.ts";
import { labelKey, type MinuteValue, type SeriesValue } from "../../metrics/aggregate.ts";
import { renderPrometheus } from "../../metrics/prometheus.ts";
import { buildSummary } from "../../metrics/summary.ts";
import type { VersionSeen } from "./versions.ts";

/** The Durable Object name of hub shard `n` (shard 0 keeps the historic name `hub`). */
export function hubName(shard: number): string {
  return shard === 0 ? "hub" : `hub-${shard}`;
}

/** The shard an event belongs to. */
export function hubShardOf(event: Pick<AuditEvent, "decision_id">, shards: number): number {
  return event.decision_id === null ? 0 : shardOf(event.decision_id, shards);
}

/** What the reader needs from one shard (the hub's RPC methods). */
export interface HubShard {
  summaryParts(minutes: number, now: number): Promise<{ rows: MinuteValue[]; sinks: SinkStatus[]; versions: VersionSeen[] }>;
  totalsParts(): Promise<{ totals: SeriesValue[]; sinks: SinkStatus[] }>;
  decisions(limit: number): Promise<DecisionRow[]>;
  event(id: string): Promise<EventView | null>;
  eventsOf(decisionId: string): Promise<EventView[]>;
  deliver(now?: number): Promise<SinkStatus[]>;
  exportDecisions(sinceMs: number, cursor: string | null, limit: number): Promise<{ lines: (DecisionLogLine | OutcomeLogLine)[]; next: string | null }>;
}

/** One sink's status over all shards: backlogs add up, the worst age and retry state show. */
export function mergeSinks(lists: readonly (readonly SinkStatus[])[]): SinkStatus[] {
  const bySink = new Map<string, SinkStatus>();
  for (const s of lists.flat()) {
    const a = bySink.get(s.sink);
    if (a === undefined) {
      bySink.set(s.sink, s);
      continue;
    }
    const worse = s.attempts > a.attempts ? s : a;
    bySink.set(s.sink, {
      sink: s.sink,
      pending: a.pending + s.pending,
      oldestAgeMs: maxOrNull(a.oldestAgeMs, s.oldestAgeMs),
      attempts: worse.attempts,
      nextAttemptAt: minOrNull(a.nextAttemptAt, s.nextAttemptAt),
      lastError: worse.lastError ?? a.lastError ?? s.lastError,
      lastOkAt: maxOrNull(a.lastOkAt, s.lastOkAt),
      delivered: a.delivered + s.delivered,
      failures: a.failures + s.failures,
    });
  }
  return [...bySink.values()].sort((x, y) => (x.sink < y.sink ? -1 : 1));
}

/** Running totals of all shards, summed per series. */
export function mergeTotals(lists: readonly (readonly SeriesValue[])[]): SeriesValue[] {
  const merged = new Map<string, SeriesValue>();
  for (const t of lists.flat()) {
    const id = `${t.name}\u0000${labelKey(t.labels)}`;
    const a = merged.get(id);
    merged.set(id, a === undefined ? t : { ...a, value: a.value + t.value });
  }
  return [...merged.values()];
}

function maxOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

function minOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/** The admin API's view of all hub shards. */
export class AuditHubs {
  constructor(
    private readonly shard: (n: number) => HubShard,
    readonly shards: number,
  ) {}

  private all(): HubShard[] {
    return Array.from({ length: this.shards }, (_, n) => this.shard(n));
  }

  /** The dashboard's panels: minute rows of every shard, versions from shard 0 (the only one that sees them). */
  async summary(minutes: number, now: number = Date.now()): Promise<DashboardSummary> {
    const parts = await Promise.all(this.all().map((s) => s.summaryParts(minutes, now)));
    return buildSummary(
      parts.flatMap((p) => p.rows),
      { now, minutes, sinks: mergeSinks(parts.map((p) => p.sinks)), versions: parts[0]?.versions ?? [] },
    );
  }

  /** The newest `limit` decisions over all shards, newest first. */
  async decisions(limit: number): Promise<DecisionRow[]> {
    const lists = await Promise.all(this.all().map((s) => s.decisions(limit)));
    return lists
      .flat()
      .sort((a, b) => (a.ts === b.ts ? 0 : a.ts < b.ts ? 1 : -1))
      .slice(0, limit);
  }

  /** Every event of one decision: they all live in its shard. */
  async eventsOf(decisionId: string): Promise<EventView[]> {
    return this.shard(shardOf(decisionId, this.shards)).eventsOf(decisionId);
  }

  /** One event by id: its shard is not known from the id, so every shard is asked. */
  async event(id: string): Promise<EventView | null> {
    const found = await Promise.all(this.all().map((s) => s.event(id)));
    return found.find((v) => v !== null) ?? null;
  }

  /**
   * Decision log lines for `riskgate decisions export`, paged shard by shard (oldest first
   * within a shard; replay needs no global order). The cursor is the shard's own
   * (`at.rowid`), prefixed `n:` from shard 1 on, so one shard keeps its plain cursors; a
   * page never splits or repeats a decision.
   */
  async exportDecisions(sinceMs: number, cursor: string | null, limit: number): Promise<{ lines: (DecisionLogLine | OutcomeLogLine)[]; next: string | null }> {
    const [, prefix, position] = /^(?:(\d+):)?(.*)$/.exec(cursor ?? "") ?? [];
    const first = prefix === undefined ? 0 : Number(prefix);
    for (let n = first; n < this.shards; n++) {
      const page = await this.shard(n).exportDecisions(sinceMs, n === first && position !== "" ? (position ?? null) : null, limit);
      const at = (next: string) => (n === 0 ? next : `${n}:${next}`);
      if (page.next !== null) return { lines: page.lines, next: at(page.next) };
      if (page.lines.length > 0) return { lines: page.lines, next: n + 1 < this.shards ? `${n + 1}:` : null };
    }
    return { lines: [], next: null };
  }

  /** Prometheus text over all shards. */
  async prometheus(): Promise<string> {
    const parts = await Promise.all(this.all().map((s) => s.totalsParts()));
    return renderPrometheus(mergeTotals(parts.map((p) => p.totals)), mergeSinks(parts.map((p) => p.sinks)));
  }

  /** Deliver every shard's due outbox batches. */
  async deliver(): Promise<SinkStatus[]> {
    return mergeSinks(await Promise.all(this.all().map((s) => s.deliver())));
  }
}
