// SLIs from audit events, the Prometheus exposition and the Analytics Engine layout.
import { describe, expect, it } from "vitest";
import type { AuditInput } from "../../src/audit/events.ts";
import { labelKey, type SeriesValue } from "../../src/metrics/aggregate.ts";
import { AE_BLOBS, AE_DOUBLES, dataPoint } from "../../src/metrics/analytics-engine.ts";
import { labelValue } from "../../src/metrics/catalogue.ts";
import { incrementsFor, observe } from "../../src/metrics/from-event.ts";
import { renderPrometheus } from "../../src/metrics/prometheus.ts";
import { decision, event } from "./support/events.ts";

const ids = { request_id: "r", decision_id: "d" } as const;
const names = (input: AuditInput) => incrementsFor(event(input)).map((i) => `${i.name}${JSON.stringify(i.labels)}=${i.value}`);

describe("incrementsFor", () => {
  it("a decision counts verdict, tier, reasons, score, latency, store and its dependency errors", () => {
    const incs = incrementsFor(
      decision({
        verdict: "challenge",
        tier: "high",
        score: 80,
        reasons: [{ code: "VELOCITY_IP", rule: "velocity-ip", weight: 30 }],
        errors: [{ dependency: "store", code: "STORE_TIMEOUT", failMode: "challenge" }],
        store_ms: 150,
      }),
    ).map((i) => `${i.name}${JSON.stringify(i.labels)}=${i.value}`);
    expect(incs).toEqual(
      expect.arrayContaining([
        'riskgate_decisions_total{"verdict":"challenge","tier":"high","mode":"live"}=1',
        'riskgate_decision_reasons_total{"reason":"VELOCITY_IP"}=1',
        'riskgate_decision_score_bucket{"le":"80"}=1',
        'riskgate_decision_score_sum{}=80',
        'riskgate_dependency_errors_total{"dependency":"store","code":"STORE_TIMEOUT","fail_mode":"challenge"}=1',
        'riskgate_store_requests_total{"store":"durable-object","result":"STORE_TIMEOUT"}=1',
        'riskgate_store_latency_ms_bucket{"store":"durable-object","le":"250"}=1',
      ]),
    );
  });

  it("a decision without a store call counts no store request", () => {
    expect(incrementsFor(decision({ store_ms: null })).some((i) => i.name.startsWith("riskgate_store"))).toBe(false);
  });

  it.each([
    ["origin accepted", { ok: true, status: 200, error: null, attempts: 1, lost: false }, ['riskgate_origin_requests_total{"result":"2xx"}=1'], "riskgate_dependency_errors_total"],
    ["origin accepted on a retry", { ok: true, status: 200, error: null, attempts: 2, lost: false }, ['riskgate_origin_requests_total{"result":"2xx"}=1'], "riskgate_resets_lost_total"],
    ["origin timed out", { ok: false, status: null, error: "ORIGIN_TIMEOUT", attempts: 1, lost: false },
      ['riskgate_origin_requests_total{"result":"ORIGIN_TIMEOUT"}=1', 'riskgate_dependency_errors_total{"dependency":"origin","code":"ORIGIN_TIMEOUT","fail_mode":"allow"}=1'], "riskgate_resets_lost_total"],
    // A 5xx is a failure (it was counted a success before), and a reset that never got through is lost.
    ["origin answered 503 to every attempt", { ok: false, status: 503, error: "ORIGIN_ERROR", attempts: 3, lost: true },
      [
        'riskgate_origin_requests_total{"result":"5xx"}=1',
        'riskgate_dependency_errors_total{"dependency":"origin","code":"ORIGIN_ERROR","fail_mode":"allow"}=1',
        'riskgate_resets_lost_total{"result":"5xx"}=1',
      ], null],
  ])("forward: %s", (_name, result, expected, absent) => {
    const out = names({ type: "forward", ...ids, data: { origin: "https://o", ms: 40, respond: "uniform", ...result } });
    expect(out).toEqual(expect.arrayContaining(expected));
    if (absent !== null) expect(out.some((l) => l.startsWith(absent))).toBe(false);
  });

  it.each([
    [{ type: "challenge.issued", ...ids, data: { kind: "captcha", provider: null } }, 'riskgate_challenges_issued_total{"kind":"captcha"}=1'],
    [{ type: "challenge.solved", ...ids, data: { kind: "captcha", provider: "t", success: false, error: "x", via: "token" } }, 'riskgate_challenges_solved_total{"kind":"captcha","result":"failure","via":"token"}=1'],
    [{ type: "ratelimit.step", ...ids, data: { ladder: "ip", step: 2, action: "challenge", key: "ip", retry_after_s: null } }, 'riskgate_rate_limit_steps_total{"ladder":"ip","step":"2","action":"challenge"}=1'],
    [{ type: "outcome.received", ...ids, data: { outcome: "completed", channel: "sms_otp", cost: 0.04, currency: "USD", account: null, experiment: null } }, 'riskgate_outcome_cost_total{"channel":"sms_otp","currency":"USD"}=0.04'],
    [{ type: "admin.login", request_id: null, decision_id: null, data: { success: true } }, 'riskgate_admin_logins_total{"result":"success"}=1'],
  ] as [AuditInput, string][])("%o counts %s", (input, expected) => {
    expect(names(input)).toContain(expected);
  });

  it("an outcome without a usable cost adds no cost", () => {
    for (const cost of [null, -1, Number.NaN]) {
      const out = names({ type: "outcome.received", ...ids, data: { outcome: "completed", channel: "email", cost, currency: null, account: null, experiment: null } });
      expect(out.some((l) => l.startsWith("riskgate_outcome_cost_total"))).toBe(false);
    }
  });

  it.each([
    [0, "0"],
    [10, "10"],
    [11, "20"],
    [150, "150"],
    [151, "+Inf"],
    [-20, "0"],
  ])("score %i falls in bucket le=%s", (score, le) => {
    expect(observe("score", score)[0]?.labels.le).toBe(le);
  });

  it.each([
    ["ok_value-1.2:x+", "ok_value-1.2:x+"],
    ['has "quotes" and spaces', "has__quotes__and_spaces"],
    ["x".repeat(100), "x".repeat(64)],
  ])("label value %s is kept to a safe alphabet and length", (raw, clean) => {
    expect(labelValue(raw)).toBe(clean);
  });
});

describe("labelKey and labelValue", () => {
  it("key a label set the same whatever order its labels were written in", () => {
    const canonical = '{"fail_mode":"allow","le":"+Inf","tier":"low"}';
    expect(labelKey({ fail_mode: "allow", le: "+Inf", tier: "low" })).toBe(canonical);
    expect(labelKey({ tier: "low", fail_mode: "allow", le: "+Inf" })).toBe(canonical);
    expect(labelKey({ le: "+Inf", tier: "low", fail_mode: "allow" })).toBe(canonical);
    expect(labelKey({})).toBe("{}");
  });

  it("clean a value the same the first time and every time after", () => {
    for (let i = 0; i < 3; i++) {
      expect(labelValue("a b/c\"d")).toBe("a_b_c_d");
      expect(labelValue("x".repeat(70))).toBe("x".repeat(64));
      expect(labelValue(429)).toBe("429");
      expect(labelValue(true)).toBe("true");
      expect(labelValue(null)).toBe("none");
    }
  });
});

describe("renderPrometheus", () => {
  const totals: SeriesValue[] = [
    { name: "riskgate_decisions_total", labels: { tier: "low", verdict: "allow", mode: "live" }, value: 3 },
    { name: "riskgate_decision_score_bucket", labels: { le: "0" }, value: 2 },
    { name: "riskgate_decision_score_bucket", labels: { le: "45" }, value: 1 },
    { name: "riskgate_decision_score_sum", labels: {}, value: 40 },
    { name: "riskgate_decision_score_count", labels: {}, value: 3 },
    { name: "riskgate_decision_reasons_total", labels: { reason: 'we"ird\\' }, value: 1 },
  ];
  const text = renderPrometheus(totals, [
    { sink: "webhook", pending: 4, oldestAgeMs: 90_500, attempts: 2, nextAttemptAt: 1, lastError: "WEBHOOK_TIMEOUT", lastOkAt: null, delivered: 10, failures: 2 },
  ]);

  it("writes HELP/TYPE and counters", () => {
    expect(text).toContain("# TYPE riskgate_decisions_total counter");
    expect(text).toContain('riskgate_decisions_total{tier="low",verdict="allow",mode="live"} 3');
    expect(text).toContain('riskgate_decision_reasons_total{reason="we\\"ird\\\\"} 1');
  });

  it("makes histogram buckets cumulative up to +Inf", () => {
    expect(text).toContain('riskgate_decision_score_bucket{le="0"} 2');
    expect(text).toContain('riskgate_decision_score_bucket{le="30"} 2');
    expect(text).toContain('riskgate_decision_score_bucket{le="45"} 3');
    expect(text).toContain('riskgate_decision_score_bucket{le="+Inf"} 3');
    expect(text).toContain("riskgate_decision_score_sum 40");
    expect(text).toContain("riskgate_decision_score_count 3");
  });

  it("exports the audit outbox per sink", () => {
    expect(text).toContain('riskgate_audit_outbox_pending{sink="webhook"} 4');
    expect(text).toContain('riskgate_audit_outbox_oldest_age_seconds{sink="webhook"} 91');
    expect(text).toContain('riskgate_audit_delivery_failures_total{sink="webhook"} 2');
  });

  it("every sample line parses as name{labels} value", () => {
    for (const line of text.trim().split("\n")) {
      if (line.startsWith("#")) continue;
      expect(line).toMatch(/^[a-z_]+(\{.*\})? -?[0-9.e+]+$/);
    }
  });
});

describe("Analytics Engine data point", () => {
  it("has the documented fixed layout", () => {
    const point = dataPoint(decision({ verdict: "deny", tier: "critical", score: 120, reasons: [{ code: "UA_MISSING", rule: "ua-missing", weight: 40 }] }));
    expect(point.indexes).toEqual(["decision"]);
    expect(point.blobs).toHaveLength(AE_BLOBS.length);
    expect(point.doubles).toHaveLength(AE_DOUBLES.length);
    const blob = (name: (typeof AE_BLOBS)[number]) => point.blobs?.[AE_BLOBS.indexOf(name)];
    const double = (name: (typeof AE_DOUBLES)[number]) => point.doubles?.[AE_DOUBLES.indexOf(name)];
    expect([blob("type"), blob("verdict_or_result"), blob("tier_or_ladder_or_outcome"), blob("reasons")]).toEqual(["decision", "deny", "critical", "UA_MISSING"]);
    expect([double("count"), double("score"), double("cost")]).toEqual([1, 120, -1]);
  });
});
