/**
 * The dashboard's view of the metrics: minute series folded into the panels the
 * operator reads (decisions by verdict and tier, top reasons, score distribution,
 * rate-limit ladder, challenges, dependency health, outcomes and cost). Pure, so each
 * panel's arithmetic is unit-tested.
 */
import type { DashboardSummary, DependencyHealth, SinkStatus, VersionSeen } from "../audit/api-types.ts";
import { type MinuteValue, minuteOf } from "./aggregate.ts";
import { METRICS, SCORE_BUCKETS } from "./catalogue.ts";

export type { DashboardSummary, DependencyHealth };

/** Dependency status looks at the last five minutes, whatever the window. */
export const HEALTH_WINDOW_MS = 5 * 60_000;

type Rows = readonly MinuteValue[];

function named(rows: Rows, name: string): Rows {
  return rows.filter((r) => r.name === name);
}

function sum(rows: Rows, where: (labels: Readonly<Record<string, string>>) => boolean = () => true): number {
  return rows.reduce((acc, r) => (where(r.labels) ? acc + r.value : acc), 0);
}

/** Totals by one label. */
function byLabel(rows: Rows, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const key = r.labels[label] ?? "none";
    out.set(key, (out.get(key) ?? 0) + r.value);
  }
  return out;
}

/** One series per value of `label`, aligned on `buckets`. */
function seriesBy(rows: Rows, label: string, buckets: readonly number[]): Record<string, number[]> {
  const groups = new Map<string, MinuteValue[]>();
  for (const r of rows) {
    const key = r.labels[label] ?? "none";
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return Object.fromEntries([...groups].map(([key, group]) => [key, totalSeries(group, buckets)]));
}

/** The sum of all rows per minute, aligned on `buckets`. */
function totalSeries(rows: Rows, buckets: readonly number[]): number[] {
  const index = new Map(buckets.map((b, i) => [b, i]));
  const out = buckets.map(() => 0);
  for (const r of rows) {
    const i = index.get(r.minute);
    if (i !== undefined) out[i] = (out[i] ?? 0) + r.value;
  }
  return out;
}

/**
 * Upper-bound estimate of a quantile from bucket counts (`le` → count, not cumulative).
 * Observations above the top bound report the top bound.
 */
export function quantile(bucketRows: Rows, q: number): number | null {
  const counts = byLabel(bucketRows, "le");
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const bounds = [...counts.keys()].filter((le) => le !== "+Inf").map(Number).sort((a, b) => a - b);
  let cumulative = 0;
  for (const bound of bounds) {
    cumulative += counts.get(String(bound)) ?? 0;
    if (cumulative >= q * total) return bound;
  }
  return bounds.at(-1) ?? null;
}

function health(name: string, requests: number, errors: number, latency: Rows, detail: string | null): DependencyHealth {
  const rate = requests === 0 ? 0 : errors / requests;
  const status = requests === 0 ? "idle" : rate >= 0.5 ? "down" : rate >= 0.05 ? "degraded" : "ok";
  return { name, status, requests, errors, p50Ms: quantile(latency, 0.5), p95Ms: quantile(latency, 0.95), detail };
}

function dependencies(recent: Rows): DependencyHealth[] {
  const store = named(recent, METRICS.storeRequests.name);
  const origin = named(recent, METRICS.originRequests.name);
  const depErrors = named(recent, METRICS.dependencyErrors.name);
  const captchaErrors = sum(depErrors, (l) => l.dependency === "captcha");
  return [
    health("store", sum(store), sum(store, (l) => l.result !== "ok"), named(recent, `${METRICS.storeMs.name}_bucket`), null),
    health(
      "origin",
      sum(origin),
      sum(origin, (l) => l.result === "5xx" || (l.result ?? "").startsWith("ORIGIN_")),
      named(recent, `${METRICS.originMs.name}_bucket`),
      null,
    ),
    // Provider checks: token answers (errors included); a pass is checked locally.
    health("captcha", sum(named(recent, METRICS.challengesSolved.name), (l) => l.via !== "pass"), captchaErrors, [], null),
  ];
}

function sinkHealth(sinks: readonly SinkStatus[]): DependencyHealth[] {
  return sinks.map((s) => ({
    name: `audit:${s.sink}`,
    status: s.attempts >= 3 ? "down" : s.attempts > 0 ? "degraded" : s.pending + s.delivered === 0 ? "idle" : "ok",
    requests: s.delivered,
    errors: s.failures,
    p50Ms: null,
    p95Ms: null,
    detail: s.lastError === null || s.attempts === 0 ? `${s.pending} pending` : `${s.pending} pending, ${s.lastError}`,
  }));
}

function outcomes(rows: Rows): DashboardSummary["outcomes"] {
  // Per decision: a resend or a second report of one decision's outcome is a repeat, so
  // completed can never outnumber sent because an origin reported one reset twice.
  const counts = Object.fromEntries(byLabel(named(rows, METRICS.outcomes.name).filter((r) => r.labels.repeat !== "true"), "outcome"));
  const cost = Object.fromEntries(byLabel(named(rows, METRICS.outcomeCost.name), "currency"));
  const completed = counts.completed ?? 0;
  const abandoned = counts.abandoned ?? 0;
  const sent = counts.sent ?? 0;
  const perCompleted = Object.fromEntries(
    Object.entries(cost).flatMap(([currency, total]) => (completed > 0 ? [[currency, total / completed]] : [])),
  );
  return {
    counts,
    cost,
    costPerCompleted: perCompleted,
    successRate: sent > 0 ? completed / sent : null,
    abandonmentRate: completed + abandoned > 0 ? abandoned / (completed + abandoned) : null,
  };
}

/** Fold minute rows (already limited to the window) into the dashboard's panels. */
export function buildSummary(
  rows: Rows,
  context: { now: number; minutes: number; sinks: readonly SinkStatus[]; versions: readonly VersionSeen[] },
): DashboardSummary {
  const { now, minutes } = context;
  const last = minuteOf(now);
  const buckets = Array.from({ length: minutes }, (_, i) => last - (minutes - 1 - i) * 60_000);
  const decisions = named(rows, METRICS.decisions.name);
  const scoreRows = byLabel(named(rows, `${METRICS.score.name}_bucket`), "le");
  const steps = named(rows, METRICS.rateLimitSteps.name);
  const solved = named(rows, METRICS.challengesSolved.name);
  const recent = rows.filter((r) => r.minute >= minuteOf(now - HEALTH_WINDOW_MS));
  return {
    now,
    minutes,
    buckets,
    verdicts: seriesBy(decisions, "verdict", buckets),
    tiers: seriesBy(decisions, "tier", buckets),
    total: sum(decisions),
    reasons: [...byLabel(named(rows, METRICS.reasons.name), "reason")]
      .map(([code, count]) => ({ code, count }))
      .sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1))
      .slice(0, 12),
    scores: [...SCORE_BUCKETS.map(String), "+Inf"].map((le) => ({ le, count: scoreRows.get(le) ?? 0 })),
    rateLimit: {
      series: totalSeries(steps, buckets),
      steps: [...groupSteps(steps).values()].sort((a, b) => b.count - a.count),
    },
    challenges: {
      issued: sum(named(rows, METRICS.challengesIssued.name)),
      // A pass spares a solved user a second CAPTCHA: it is not a new solve.
      solved: sum(solved, (l) => l.result === "success" && l.via !== "pass"),
      failed: sum(solved, (l) => l.result === "failure"),
    },
    outcomes: outcomes(rows),
    dependencies: [...dependencies(recent), ...sinkHealth(context.sinks)],
    sinks: context.sinks,
    versions: context.versions,
  };
}

function groupSteps(rows: Rows): Map<string, { ladder: string; step: string; action: string; count: number }> {
  const out = new Map<string, { ladder: string; step: string; action: string; count: number }>();
  for (const r of rows) {
    const { ladder = "none", step = "0", action = "none" } = r.labels;
    const key = `${ladder}/${step}/${action}`;
    const current = out.get(key) ?? { ladder, step, action, count: 0 };
    current.count += r.value;
    out.set(key, current);
  }
  return out;
}
