/**
 * The admin JSON API's response types, shared by the Worker and the dashboard's
 * browser code. Types only, with no runtime imports, so the browser build can use them.
 */
import type { AuditEvent, CandidateData, DecisionData } from "./events.ts";
import type { OcsfEvent } from "./ocsf.ts";
import type { DependencyError, Reason } from "../shared/decision.ts";

/** Remote sinks the audit hub delivers to. */
export type RemoteSink = "webhook" | "queue";

/** Outbox state of one remote sink (`GET /__riskgate/api/sinks`). */
export interface SinkStatus {
  readonly sink: RemoteSink;
  readonly pending: number;
  readonly oldestAgeMs: number | null;
  readonly attempts: number;
  readonly nextAttemptAt: number | null;
  readonly lastError: string | null;
  readonly lastOkAt: number | null;
  readonly delivered: number;
  readonly failures: number;
}

/** Rule-set versions and signing keys the hub has seen. */
export type VersionKind = "ruleset" | "key";

/** One sighting record. */
export interface VersionSeen {
  readonly kind: VersionKind;
  readonly value: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** Health of one dependency over the last five minutes. */
export interface DependencyHealth {
  readonly name: string;
  readonly status: "ok" | "degraded" | "down" | "idle";
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly detail: string | null;
}

/** Everything the dashboard draws (`GET /__riskgate/api/summary`). */
export interface DashboardSummary {
  readonly now: number;
  readonly minutes: number;
  /** Minute starts of the window, oldest first; every series below aligns with it. */
  readonly buckets: readonly number[];
  readonly verdicts: Readonly<Record<string, readonly number[]>>;
  readonly tiers: Readonly<Record<string, readonly number[]>>;
  readonly total: number;
  readonly reasons: readonly { readonly code: string; readonly count: number }[];
  readonly scores: readonly { readonly le: string; readonly count: number }[];
  readonly rateLimit: {
    readonly series: readonly number[];
    readonly steps: readonly { readonly ladder: string; readonly step: string; readonly action: string; readonly count: number }[];
  };
  readonly challenges: { readonly issued: number; readonly solved: number; readonly failed: number };
  readonly outcomes: {
    readonly counts: Readonly<Record<string, number>>;
    readonly cost: Readonly<Record<string, number>>;
    readonly costPerCompleted: Readonly<Record<string, number>>;
    readonly successRate: number | null;
    readonly abandonmentRate: number | null;
  };
  readonly dependencies: readonly DependencyHealth[];
  readonly sinks: readonly SinkStatus[];
  readonly versions: readonly VersionSeen[];
}

/** A decision as the dashboard lists it (`GET /__riskgate/api/decisions`). */
export interface DecisionRow {
  readonly event_id: string;
  readonly decision_id: string | null;
  readonly request_id: string | null;
  readonly ts: string;
  readonly source: string;
  readonly seq: number;
  readonly rules: string;
  readonly route: string;
  readonly verdict: DecisionData["verdict"];
  readonly tier: string;
  readonly score: number;
  readonly channel: string;
  readonly action: string;
  readonly mode: DecisionData["mode"];
  readonly reasons: readonly Reason[];
  readonly shadow_reasons: readonly Reason[];
  readonly errors: readonly DependencyError[];
  /** The facts the rules saw (counts, flags, UA family, geo: no identifiers). */
  readonly facts: DecisionData["facts"];
  /** What the shadow candidate rule set would have decided, if one is bundled. */
  readonly candidate: CandidateData | null;
  readonly origin: { readonly status: number | null; readonly error: string | null; readonly ms: number } | null;
  /** Every audit event with this decision id (the decision itself included). */
  readonly events: readonly { readonly id: string; readonly type: AuditEvent["type"]; readonly seq: number }[];
  /** Requests this row stands for: 1 for a decision, the tally for refused requests. */
  readonly count: number;
  /** A refused row's key as `POST /api/penalty/lift` takes it (`key:<kind>:<HMAC>`), for the dashboard's lift. */
  readonly lift?: string;
}

/** One audit event in both formats (`GET /__riskgate/api/events/:id`). */
export interface EventView {
  readonly event: AuditEvent;
  readonly ocsf: OcsfEvent;
}
