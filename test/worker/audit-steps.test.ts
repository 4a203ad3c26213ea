// The follow-up audit events, emitted for real after the response: `ratelimit.step` for
// each ladder a flood climbs, `challenge.solved` when the CAPTCHA step ran, and
// `outcome.received` for a verified report. Then the same events through the metric
// derivation (src/metrics) and the dashboard summary: the rate-limit panel counts them.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import type { AuditEvent } from "../../src/audit/events.ts";
import { createGateway } from "../../src/gateway/gateway.ts";
import type { MinuteValue } from "../../src/metrics/aggregate.ts";
import { minuteOf } from "../../src/metrics/aggregate.ts";
import { incrementsFor } from "../../src/metrics/from-event.ts";
import { buildSummary } from "../../src/metrics/summary.ts";
// Brings in the `turnstile` entry of vitest's ProvidedContext.
import type {} from "../support/captcha-setup.ts";
import { reset, signOutcome } from "./helpers.ts";
import { type Flood, flood, lineOf, randomIp, type Sent, uniqueUa } from "./ratelimit-harness.ts";
import { capturing } from "./support/capture.ts";
import { call } from "./support/http.ts";

const turnstile = inject("turnstile");

afterEach(() => {
  vi.useRealTimers();
});

const of = <T extends AuditEvent["type"]>(events: readonly AuditEvent[], type: T, decision: string) =>
  events.filter((e): e is Extract<AuditEvent, { type: T }> => e.type === type && e.decision_id === decision).map((e) => e.data);

/** `n` resets from `ip`, each for a new account, from three browsers in turn (one script, not a crowd: rules/policy.yaml, the ip ladder). */
async function burst(f: Flood, n: number, ip: string): Promise<Sent[]> {
  const browsers = [uniqueUa("s0"), uniqueUa("s1"), uniqueUa("s2")];
  const sent: Sent[] = [];
  for (let i = 0; i < n; i++) {
    f.advance(50);
    sent.push(await f.post({ email: `steps-${crypto.randomUUID()}@example.com` }, { ip, ua: browsers[i % browsers.length] as string }));
  }
  return sent;
}

/** The dashboard summary the hub would build from these events (minute rows at the flood's clock). */
function summaryOf(events: readonly AuditEvent[], now: number) {
  const rows: MinuteValue[] = events.flatMap((e) =>
    incrementsFor(e).map((i) => ({ minute: minuteOf(Date.parse(e.ts)), name: i.name, labels: i.labels, value: i.value })),
  );
  return buildSummary(rows, { now, minutes: 15, sinks: [], versions: [] });
}

describe("ratelimit.step", () => {
  it("one per ladder step a flood reaches (CAPTCHA, 429, penalty box), none while allowed; the panel counts them", async () => {
    const events: AuditEvent[] = [];
    const f = await flood("durable-object", undefined, events);
    const ip = randomIp();
    const sent = await burst(f, 21, ip);
    expect(sent.map((s) => s.status)).toEqual([...new Array(10).fill(202), ...new Array(10).fill(403), 429]);
    f.advance(1000);
    const boxed = await f.post({ email: "boxed@example.com" }, { ip });
    expect(boxed.status).toBe(429);

    const steps = (s: Sent) => of(events, "ratelimit.step", lineOf(s).id);
    const cases: [string, Sent, unknown[]][] = [
      ["allowed", sent[0] as Sent, []],
      ["CAPTCHA step", sent[10] as Sent, [{ ladder: "ip", step: 1, action: "challenge", key: "ip", retry_after_s: null }]],
      ["429 step", sent[20] as Sent, [{ ladder: "ip", step: 2, action: "deny", key: "ip", retry_after_s: 60 }]],
    ];
    for (const [label, s, expected] of cases) expect(steps(s), label).toEqual(expected);
    // Inside the box the screen stage refuses before anything is read: no decision and no
    // step event, one ratelimit.refused event instead (the box is rung 3).
    expect(boxed.line).toBeNull();
    expect(of(events, "ratelimit.refused", String(boxed.body.decision))).toEqual([
      expect.objectContaining({ ladder: "ip", step: "penalty", key: "ip", count: 1, retry_after_s: boxed.retryAfter }),
    ]);
    // The step events share the decision's ids and hold no identifier at all.
    const step = events.find((e) => e.type === "ratelimit.step");
    expect(step?.request_id).toBe(events.find((e) => e.type === "decision" && e.decision_id === step?.decision_id)?.request_id);
    expect(JSON.stringify(events.filter((e) => e.type === "ratelimit.step"))).not.toContain(ip);

    const summary = summaryOf(events, f.now());
    expect(summary.rateLimit.steps).toEqual([
      { ladder: "ip", step: "1", action: "challenge", count: 10 },
      { ladder: "ip", step: "2", action: "deny", count: 1 },
    ]);
    expect(summary.rateLimit.series.reduce((a, b) => a + b, 0)).toBe(11);
  });
});

describe("challenge.solved", () => {
  it("records a solved token, a replay refused and a pass, with the provider", async () => {
    const events: AuditEvent[] = [];
    const f = await flood("durable-object", undefined, events);
    const [user, ip] = [`solved-${crypto.randomUUID()}@example.com`, randomIp()];
    for (let i = 0; i < 5; i++) await f.post({ email: user }, { ip });
    const challenged = await f.post({ email: user }, { ip });
    expect(challenged.status).toBe(403);
    const { action, cdata } = (challenged.body as { challenge: { action: string; cdata: string } }).challenge;
    const mint = await fetch(`${turnstile.url}/__standin/mint`, {
      method: "POST",
      body: JSON.stringify({ sitekey: turnstile.siteKey, hostname: "gateway.test", action, cdata, ts: f.now() }),
    });
    const { token } = (await mint.json()) as { token: string };
    const solved = await f.post({ email: user, "cf-turnstile-response": token }, { ip });
    const replayed = await f.post({ email: user, "cf-turnstile-response": token }, { ip });
    const pass = /riskgate_pass=([^;]+)/.exec((solved.headers.getAll("set-cookie") as string[]).join("\n"))?.[1] ?? "";
    const withPass = await f.post({ email: user }, { ip, headers: { "captcha-pass": pass } });
    expect([solved.status, replayed.status, withPass.status]).toEqual([202, 403, 202]);

    const solvedOf = (s: Sent) => of(events, "challenge.solved", lineOf(s).id);
    const turnstileName = "turnstile";
    const cases: [string, Sent, unknown[]][] = [
      ["no answer yet", challenged, []],
      ["token solved", solved, [{ kind: "captcha", provider: turnstileName, success: true, error: null, via: "token" }]],
      ["token replayed", replayed, [{ kind: "captcha", provider: turnstileName, success: false, error: "CAPTCHA_REPLAYED", via: "token" }]],
      ["pass", withPass, [{ kind: "captcha", provider: turnstileName, success: true, error: null, via: "pass" }]],
    ];
    for (const [label, s, expected] of cases) expect(solvedOf(s), label).toEqual(expected);
    expect(of(events, "challenge.issued", lineOf(challenged).id)).toEqual([{ kind: "captcha", provider: turnstileName }]);
    expect(JSON.stringify(events)).not.toContain(token);

    // A pass is not a new solve: the dashboard counts the token once, and the replay as failed.
    const summary = summaryOf(events, f.now());
    expect(summary.challenges).toMatchObject({ solved: 1, failed: 1 });
    expect(summary.challenges.issued).toBeGreaterThanOrEqual(2);
  });
});

describe("outcome.received", () => {
  it("is emitted once per event id after a verified report, with the account's HMAC", async () => {
    const { origin } = await reset(`outcome-audit-${crypto.randomUUID()}@example.com`, { "cf-connecting-ip": "80.128.0.2" });
    if (origin === null) throw new Error("not forwarded");
    const decisionId = String(origin.claims?.jti);
    const events: AuditEvent[] = [];
    const gateway = capturing(await createGateway(env), events);
    const post = async (event: string, jti: string, extra: Record<string, unknown> = {}) => {
      const body = await signOutcome({ jti, event, decision_id: decisionId, decision: origin.headers?.["riskgate-decision"] ?? "", ...extra });
      return call(gateway, "/v1/outcomes", { method: "POST", headers: { "content-type": "application/jwt" }, body });
    };
    const completed = crypto.randomUUID();
    expect((await post("completed", completed)).status).toBe(200);
    expect((await post("completed", completed)).status).toBe(200); // a duplicate: not emitted again
    expect((await post("sent", crypto.randomUUID())).status).toBe(200);
    // The origin's privileged tag moves the account's tier table: the event says so.
    expect((await post("completed", crypto.randomUUID(), { privileged: true })).status).toBe(200);

    const received = events.filter((e) => e.type === "outcome.received");
    // The channel is the decision's (the report named none); a send costs the cost table's price.
    const channel = origin.claims?.channel;
    expect(received.map((e) => [e.decision_id, e.data])).toEqual([
      [decisionId, expect.objectContaining({ outcome: "completed", channel, cost: null, account: origin.claims?.acct, experiment: null, repeat: false })],
      [decisionId, expect.objectContaining({ outcome: "sent", channel, account: origin.claims?.acct, experiment: null, repeat: false })],
      [decisionId, expect.objectContaining({ outcome: "completed", repeat: true, privileged: true })],
    ]);
    expect(received.slice(0, 2).map((e) => "privileged" in e.data)).toEqual([false, false]);
    expect((received[1]?.data as { cost: unknown } | undefined)?.cost).toBeTypeOf("number");
    expect(String(origin.claims?.acct)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(received)).not.toContain(completed);
    const summary = summaryOf(received, Date.now());
    expect(summary.outcomes.counts).toEqual({ completed: 1, sent: 1 });
    expect(summary.outcomes.successRate).toBe(1);
  });
});
