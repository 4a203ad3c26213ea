/**
 * The metric catalogue: every SLI riskgate exports, with its Prometheus name, type,
 * help text and (for histograms) bucket bounds. docs/operations.md explains each and
 * the SLOs built on them.
 */

/** A counter or histogram definition. */
export interface MetricDef {
  readonly name: string;
  readonly type: "counter" | "histogram";
  readonly help: string;
  /** Upper bounds (le) for histograms, ascending; `+Inf` is implied. */
  readonly buckets?: readonly number[];
}

const LATENCY_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

/** Score buckets chosen around the default tier thresholds (30, 60, 100). */
export const SCORE_BUCKETS = [0, 10, 20, 30, 45, 60, 80, 100, 150] as const;

/** All metrics. Keys are how code refers to them. */
export const METRICS = {
  decisions: { name: "riskgate_decisions_total", type: "counter", help: "Scored reset requests by verdict, tier and mode." },
  reasons: { name: "riskgate_decision_reasons_total", type: "counter", help: "Reason codes on decisions." },
  score: { name: "riskgate_decision_score", type: "histogram", help: "Risk score per decision.", buckets: SCORE_BUCKETS },
  decisionMs: { name: "riskgate_decision_duration_ms", type: "histogram", help: "Time to decide and act, per scored request.", buckets: LATENCY_MS },
  challengesIssued: { name: "riskgate_challenges_issued_total", type: "counter", help: "Challenges (CAPTCHA) sent to clients." },
  challengesSolved: { name: "riskgate_challenges_solved_total", type: "counter", help: "Challenge answers checked, by result." },
  rateLimitSteps: { name: "riskgate_rate_limit_steps_total", type: "counter", help: "Rate-limit ladder steps taken, by ladder, step and action." },
  rateLimitRefused: { name: "riskgate_rate_limit_refused_total", type: "counter", help: "Requests refused 429 by the screen stage from the block cache, by ladder and step." },
  originRequests: { name: "riskgate_origin_requests_total", type: "counter", help: "Forwards to the origin by result (status class or failure code)." },
  resetsLost: { name: "riskgate_resets_lost_total", type: "counter", help: "Resets answered 202 that never reached the origin after every retry, by the last result." },
  originMs: { name: "riskgate_origin_latency_ms", type: "histogram", help: "Origin response time.", buckets: LATENCY_MS },
  storeRequests: { name: "riskgate_store_requests_total", type: "counter", help: "Batched store calls by adapter and result." },
  storeMs: { name: "riskgate_store_latency_ms", type: "histogram", help: "Store batch latency.", buckets: LATENCY_MS },
  dependencyErrors: { name: "riskgate_dependency_errors_total", type: "counter", help: "Dependency failures and the fail mode applied." },
  outcomes: { name: "riskgate_outcomes_total", type: "counter", help: "Reset outcomes reported by the origin." },
  outcomeCost: { name: "riskgate_outcome_cost_total", type: "counter", help: "Verification cost reported with outcomes, by channel and currency." },
  auditEvents: { name: "riskgate_audit_events_total", type: "counter", help: "Audit events recorded by the hub, by type." },
  listChanges: { name: "riskgate_list_changes_total", type: "counter", help: "Live reputation list entries added or removed by operators, by action, list and kind." },
  penaltyLifts: { name: "riskgate_penalty_lifts_total", type: "counter", help: "Penalty boxes lifted by operators, by key kind." },
  adminLogins: { name: "riskgate_admin_logins_total", type: "counter", help: "Dashboard logins with the bearer secret, by result." },
} as const satisfies Record<string, MetricDef>;

/** A metric key. */
export type MetricKey = keyof typeof METRICS;

/** Label values are cut and restricted so an odd input cannot explode the series count. */
export function labelValue(value: string | number | boolean | null): string {
  if (value === null) return "none";
  const text = String(value);
  let clean = cleanLabels.get(text);
  if (clean === undefined) {
    clean = text.slice(0, 64).replace(/[^A-Za-z0-9_.:+-]/g, "_");
    // Label values come from small sets (verdicts, codes, buckets); bounded all the same.
    if (cleanLabels.size >= CLEAN_LABELS_KEPT) cleanLabels.clear();
    cleanLabels.set(text, clean);
  }
  return clean;
}

/** labelValue's answers, per raw value (the audit hub computes them for every event). */
const cleanLabels = new Map<string, string>();
const CLEAN_LABELS_KEPT = 4096;

/** Gauges computed when read (not stored): the audit outbox per sink. */
export const OUTBOX_GAUGES = {
  pending: { name: "riskgate_audit_outbox_pending", help: "Events waiting for a remote sink." },
  oldest: { name: "riskgate_audit_outbox_oldest_age_seconds", help: "Age of the oldest undelivered event." },
  delivered: { name: "riskgate_audit_delivered_total", help: "Events delivered to a remote sink." },
  failures: { name: "riskgate_audit_delivery_failures_total", help: "Failed delivery attempts to a remote sink." },
} as const;
