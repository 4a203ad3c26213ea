// Issue 15 item 5: the dashboard's arithmetic and sign-in return path.
//  - reset success counts each decision once: repeats (resends, second reports) do not
//    push completed above sent (the 150.8 % bug);
//  - outcome events carry the channel, the send's cost and the currency, so the cost per
//    completed reset is shown and outcomes are not all `channel="none"`;
//  - sign-in returns only to same-origin paths under /__riskgate/ (no open redirect).
import { describe, expect, it } from "vitest";
import { safeReturnPath } from "../../src/admin/pages.ts";
import type { AuditEvent } from "../../src/audit/events.ts";
import type { MinuteValue } from "../../src/metrics/aggregate.ts";
import { incrementsFor } from "../../src/metrics/from-event.ts";
import { buildSummary } from "../../src/metrics/summary.ts";
import { outcomeDetails } from "../../src/outcomes/index.ts";
import type { VerifiedOutcome } from "../../src/outcomes/verify.ts";
import { compileShipped } from "./support/rulesets.ts";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const envelope = { v: 1, id: "e", ts: new Date(NOW).toISOString(), source: "s", seq: 1, request_id: null, decision_id: "d", rules: "r" } as const;

function outcomeEvent(outcome: "sent" | "completed", repeat: boolean, cost: number | null = null): AuditEvent {
  return {
    ...envelope,
    type: "outcome.received",
    data: { outcome, channel: "sms_otp", cost, currency: cost === null ? null : "USD", account: null, experiment: null, repeat },
  } as AuditEvent;
}

function rows(events: readonly AuditEvent[]): MinuteValue[] {
  return events.flatMap(incrementsFor).map((i) => ({ ...i, minute: NOW - (NOW % 60_000) }));
}

const summarise = (events: readonly AuditEvent[]) => buildSummary(rows(events), { now: NOW, minutes: 60, sinks: [], versions: [] });

describe("outcome panel arithmetic", () => {
  it("counts a decision's repeated completion once: success cannot exceed 100 %", () => {
    // 2 resets sent (one resent), both completed, one reported twice with a new event id.
    const s = summarise([
      outcomeEvent("sent", false, 0.05),
      outcomeEvent("sent", true, 0.05),
      outcomeEvent("sent", false, 0.05),
      outcomeEvent("completed", false),
      outcomeEvent("completed", true),
      outcomeEvent("completed", false),
    ]);
    expect(s.outcomes.counts).toMatchObject({ sent: 2, completed: 2 });
    expect(s.outcomes.successRate).toBe(1);
    // Every send cost money, the resend too: 0.15 over 2 completed resets.
    expect(s.outcomes.costPerCompleted.USD).toBeCloseTo(0.075);
  });

  it("labels outcomes with their channel, not `none`", () => {
    const labels = incrementsFor(outcomeEvent("completed", false)).find((i) => i.name === "riskgate_outcomes_total")?.labels;
    expect(labels).toMatchObject({ channel: "sms_otp", outcome: "completed", repeat: "false" });
  });
});

describe("outcome event details", () => {
  const ruleset = compileShipped();
  const channel = Object.keys(ruleset.spec.channels).find((c) => sendCost(c) > 0) ?? "";
  function sendCost(c: string): number {
    const cost = (ruleset.spec.channels as Record<string, { cost?: number | { default: number } }>)[c]?.cost;
    return typeof cost === "number" ? cost : (cost?.default ?? 0);
  }
  const outcome = (event: VerifiedOutcome["event"], reported: Partial<VerifiedOutcome["reported"]> = {}) =>
    ({ event, decisionChannel: channel, reported: { channel: null, cost: null, country: null, ...reported }, seen: {} }) as unknown as VerifiedOutcome;

  it("a send carries the decision's channel and the cost table's price in the rule set's currency", () => {
    expect(channel).not.toBe("");
    const d = outcomeDetails({ ruleset }, outcome("sent"), false);
    expect(d.channel).toBe(channel);
    expect(d.currency).toBe(ruleset.spec.currency);
    expect(d.cost).toBeGreaterThan(0);
  });

  it("the origin's reported channel and cost win; other events carry no cost", () => {
    expect(outcomeDetails({ ruleset }, outcome("sent", { channel: "email_link", cost: 0.5 }), true)).toMatchObject({ channel: "email_link", cost: 0.5, repeat: true });
    expect(outcomeDetails({ ruleset }, outcome("completed"), false)).toMatchObject({ channel, cost: null, currency: null });
  });
});

describe("sign-in return path", () => {
  it.each(["/__riskgate/experiments/medium-email-vs-sms", "/__riskgate/experiments?format=html", "/__riskgate/"])("keeps %s", (path) => {
    expect(safeReturnPath(path)).toBe(path);
  });

  it.each([
    "https://evil.example/__riskgate/",
    "//evil.example/__riskgate/",
    "/__riskgate//evil.example",
    "/\\evil.example",
    "/__riskgate/\\evil.example",
    "/__riskgate/../password/reset",
    "/__riskgate/%2e%2e/x",
    "/__riskgate/%2F%2Fevil.example",
    "/__riskgate/\nLocation: https://evil.example",
    "/password/reset",
    "javascript:alert(1)",
    "/__riskgate/login",
    "",
    null,
  ])("refuses %s", (path) => {
    expect(safeReturnPath(path)).toBeNull();
  });
});
