/**
 * Metrics are derived from audit events, nothing else: one source of truth, and the
 * request path pays for neither. A pure function, so every SLI is unit-tested here.
 */
import type { AuditEvent, DecisionData, ForwardData } from "../audit/events.ts";
import { labelValue, METRICS, type MetricKey } from "./catalogue.ts";

/** Add `value` to one series (a name and its labels). */
export interface Increment {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

type Labels = Record<string, string | number | boolean | null>;

function inc(key: MetricKey, labels: Labels = {}, value = 1): Increment {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) clean[k] = labelValue(v);
  return { name: METRICS[key].name, labels: clean, value };
}

/** A histogram observation: the bucket it falls in, the sum and the count. */
export function observe(key: MetricKey, value: number, labels: Labels = {}): Increment[] {
  const def = METRICS[key];
  const bounds: readonly number[] = "buckets" in def ? def.buckets : [];
  const bound = bounds.find((b) => value <= b);
  const bucket = inc(key, { ...labels, le: bound === undefined ? "+Inf" : String(bound) });
  return [
    { ...bucket, name: `${def.name}_bucket` },
    { ...inc(key, labels, value), name: `${def.name}_sum` },
    { ...inc(key, labels), name: `${def.name}_count` },
  ];
}

function decision(d: DecisionData): Increment[] {
  const out = [
    inc("decisions", { verdict: d.verdict, tier: d.tier, mode: d.mode }),
    ...d.reasons.map((r) => inc("reasons", { reason: r.code })),
    ...observe("score", d.score),
    ...observe("decisionMs", d.ms),
    ...d.errors.map((e) => inc("dependencyErrors", { dependency: e.dependency, code: e.code, fail_mode: e.failMode })),
  ];
  if (d.store_ms !== null) {
    const storeError = d.errors.find((e) => e.dependency === "store");
    out.push(inc("storeRequests", { store: d.store, result: storeError?.code ?? "ok" }));
    out.push(...observe("storeMs", d.store_ms, { store: d.store }));
  }
  return out;
}

/** `2xx` ... `5xx` for answers, the failure code otherwise. */
export function originResult(d: ForwardData): string {
  if (d.status !== null) return `${Math.floor(d.status / 100)}xx`;
  return d.error ?? "ORIGIN_UNAVAILABLE";
}

function forward(d: ForwardData): Increment[] {
  const out = [inc("originRequests", { result: originResult(d) }), ...observe("originMs", d.ms)];
  if (!d.ok) out.push(inc("dependencyErrors", { dependency: "origin", code: d.error, fail_mode: "allow" }));
  if (d.lost) out.push(inc("resetsLost", { result: originResult(d) }));
  return out;
}

/** The increments one event contributes. */
export function incrementsFor(event: AuditEvent): Increment[] {
  const base = inc("auditEvents", { type: event.type });
  switch (event.type) {
    case "decision":
      return [base, ...decision(event.data)];
    case "forward":
      return [base, ...forward(event.data)];
    case "challenge.issued":
      return [base, inc("challengesIssued", { kind: event.data.kind })];
    case "challenge.solved":
      return [base, inc("challengesSolved", { kind: event.data.kind, result: event.data.success ? "success" : "failure", via: event.data.via })];
    case "ratelimit.step":
      return [base, inc("rateLimitSteps", { ladder: event.data.ladder, step: event.data.step, action: event.data.action })];
    case "ratelimit.refused": {
      // Each refused request is a deny decision, counted as the pipeline's 429s are.
      const { count, tier, ladder, step } = event.data;
      return [base, inc("decisions", { verdict: "deny", tier, mode: "live" }, count), inc("rateLimitRefused", { ladder, step }, count)];
    }
    case "outcome.received": {
      const { outcome, channel, cost, currency } = event.data;
      // A repeat (a resend, or a second report of the same event for one decision) costs
      // money but is not another reset: counted apart so rates stay per decision.
      const out = [base, inc("outcomes", { outcome, channel, repeat: event.data.repeat === true })];
      if (cost !== null && Number.isFinite(cost) && cost >= 0) {
        out.push(inc("outcomeCost", { channel, currency: currency ?? "unknown" }, cost));
      }
      return out;
    }
    case "list.changed":
      return [base, inc("listChanges", { action: event.data.action, list: event.data.list, kind: event.data.kind })];
    case "penalty.lifted":
      return [base, inc("penaltyLifts", { kind: event.data.kind })];
    case "admin.login":
      return [base, inc("adminLogins", { result: event.data.success ? "success" : "failure" })];
    case "ruleset.loaded":
    case "key.in_use":
    case "key.rotated":
      return [base];
  }
}
