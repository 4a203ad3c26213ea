// The dashboard's arithmetic: series alignment, top reasons, quantiles, dependency
// health thresholds, outcome rates and cost per completed reset.
import { describe, expect, it } from "vitest";
import type { SinkStatus } from "../../src/audit/api-types.ts";
import type { MinuteValue } from "../../src/metrics/aggregate.ts";
import { buildSummary, quantile } from "../../src/metrics/summary.ts";

const NOW = Date.UTC(2026, 0, 1, 12, 30, 20);
const MIN = (ago: number) => Date.UTC(2026, 0, 1, 12, 30 - ago);
const row = (ago: number, name: string, labels: Record<string, string>, value = 1): MinuteValue => ({ minute: MIN(ago), name, labels, value });
const summarise = (rows: MinuteValue[], sinks: SinkStatus[] = []) => buildSummary(rows, { now: NOW, minutes: 10, sinks, versions: [] });

describe("buildSummary", () => {
  it("aligns verdict and tier series on the window's minutes, oldest first", () => {
    const s = summarise([
      row(9, "riskgate_decisions_total", { verdict: "allow", tier: "low", mode: "live" }, 4),
      row(0, "riskgate_decisions_total", { verdict: "deny", tier: "critical", mode: "live" }, 2),
      row(0, "riskgate_decisions_total", { verdict: "allow", tier: "medium", mode: "live" }, 1),
    ]);
    expect(s.buckets).toHaveLength(10);
    expect(s.buckets[0]).toBe(MIN(9));
    expect(s.buckets[9]).toBe(MIN(0));
    expect(s.verdicts.allow).toEqual([4, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(s.verdicts.deny?.[9]).toBe(2);
    expect(s.tiers.critical?.[9]).toBe(2);
    expect(s.total).toBe(7);
  });

  it("ranks reasons by count, then code", () => {
    const s = summarise([
      row(1, "riskgate_decision_reasons_total", { reason: "VELOCITY_IP" }, 2),
      row(0, "riskgate_decision_reasons_total", { reason: "VELOCITY_IP" }, 3),
      row(0, "riskgate_decision_reasons_total", { reason: "UA_MISSING" }, 5),
      row(0, "riskgate_decision_reasons_total", { reason: "GEO_NEW_COUNTRY" }, 1),
    ]);
    expect(s.reasons).toEqual([
      { code: "UA_MISSING", count: 5 },
      { code: "VELOCITY_IP", count: 5 },
      { code: "GEO_NEW_COUNTRY", count: 1 },
    ]);
  });

  it.each([
    ["no traffic", 0, 0, "idle"],
    ["all good", 100, 4, "ok"],
    ["some failures", 100, 5, "degraded"],
    ["mostly failing", 10, 5, "down"],
  ])("store health with %s is %s", (_name, ok, failed, status) => {
    const rows = [
      ...(ok - failed > 0 ? [row(0, "riskgate_store_requests_total", { store: "durable-object", result: "ok" }, ok - failed)] : []),
      ...(failed > 0 ? [row(0, "riskgate_store_requests_total", { store: "durable-object", result: "STORE_TIMEOUT" }, failed)] : []),
    ];
    expect(summarise(rows).dependencies.find((d) => d.name === "store")?.status).toBe(status);
  });

  it("judges health on the last five minutes only", () => {
    const old = row(9, "riskgate_origin_requests_total", { result: "ORIGIN_TIMEOUT" }, 50);
    const recent = row(1, "riskgate_origin_requests_total", { result: "2xx" }, 20);
    expect(summarise([old, recent]).dependencies.find((d) => d.name === "origin")).toMatchObject({ status: "ok", requests: 20, errors: 0 });
  });

  it("reports outcomes: success, abandonment and cost per completed reset", () => {
    const s = summarise([
      row(0, "riskgate_outcomes_total", { outcome: "sent", channel: "sms_otp" }, 10),
      row(0, "riskgate_outcomes_total", { outcome: "completed", channel: "sms_otp" }, 6),
      row(0, "riskgate_outcomes_total", { outcome: "abandoned", channel: "sms_otp" }, 2),
      row(0, "riskgate_outcome_cost_total", { channel: "sms_otp", currency: "USD" }, 0.3),
    ]);
    expect(s.outcomes.successRate).toBeCloseTo(0.6);
    expect(s.outcomes.abandonmentRate).toBeCloseTo(0.25);
    expect(s.outcomes.costPerCompleted.USD).toBeCloseTo(0.05);
  });

  it("has no rates without outcomes", () => {
    expect(summarise([]).outcomes).toMatchObject({ successRate: null, abandonmentRate: null, costPerCompleted: {} });
  });

  it("groups rate-limit steps and turns sink state into health", () => {
    const s = summarise(
      [
        row(0, "riskgate_rate_limit_steps_total", { ladder: "ip", step: "1", action: "challenge" }, 3),
        row(2, "riskgate_rate_limit_steps_total", { ladder: "ip", step: "2", action: "deny" }, 1),
      ],
      [{ sink: "webhook", pending: 7, oldestAgeMs: 1, attempts: 4, nextAttemptAt: 1, lastError: "WEBHOOK_HTTP_500", lastOkAt: null, delivered: 0, failures: 4 }],
    );
    expect(s.rateLimit.steps[0]).toEqual({ ladder: "ip", step: "1", action: "challenge", count: 3 });
    expect(s.rateLimit.series.slice(-3)).toEqual([1, 0, 3]);
    expect(s.dependencies.find((d) => d.name === "audit:webhook")).toMatchObject({ status: "down", detail: "7 pending, WEBHOOK_HTTP_500" });
  });
});

describe("quantile", () => {
  const buckets = (counts: Record<string, number>) =>
    Object.entries(counts).map(([le, value]) => row(0, "riskgate_origin_latency_ms_bucket", { le }, value));
  it.each([
    [{ "10": 50, "100": 45, "1000": 5 }, 0.5, 10],
    [{ "10": 50, "100": 45, "1000": 5 }, 0.95, 100],
    [{ "10": 50, "100": 45, "1000": 5 }, 0.99, 1000],
    [{ "10": 1, "+Inf": 9 }, 0.5, 10],
  ])("%o at q=%f is ≤ %i", (counts, q, bound) => {
    expect(quantile(buckets(counts), q)).toBe(bound);
  });
  it("is null without observations", () => {
    expect(quantile([], 0.5)).toBeNull();
  });
});
