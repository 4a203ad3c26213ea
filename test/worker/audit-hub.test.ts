// The audit hub and the admin API over it: a decision is traceable from the
// dashboard's list to its audit events; ingest is idempotent; a new signing key is
// recorded as a rotation; start-up events open every isolate's sequence.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { DashboardSummary, DecisionRow, EventView } from "../../src/audit/api-types.ts";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import { createAuditor, stamp } from "../../src/audit/auditor.ts";
import type { AuditEvent, AuditInput } from "../../src/audit/events.ts";
import { startupEvents } from "../../src/audit/startup.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { capturing } from "./support/capture.ts";
import { call, hub, reset } from "./support/http.ts";

const auth = { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } };

async function api<T>(gateway: Gateway, path: string): Promise<T> {
  const res = await call(gateway, `/__riskgate/api/${path}`, auth);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

function keyEvent(kid: string, seq: number): AuditEvent {
  const input: AuditInput = { type: "key.in_use", request_id: null, decision_id: null, data: { kid, alg: "ES256", published: [kid] } };
  return stamp(input, { source: `hub-test-${kid}`, seq, id: crypto.randomUUID(), rules: "r", now: Date.now() });
}

describe("tracing a decision", () => {
  it("each listed decision carries its explanation and links to its audit events", async () => {
    const gateway = await createGateway(env);
    // One ordinary browser request (allowed and forwarded) ...
    await reset(gateway, { email: "trace-browser@example.com" }, {
      "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
      "accept-language": "en-GB,en;q=0.9",
      "cf-connecting-ip": "203.0.113.202",
    });
    // ... then a scripted client asking for many accounts from one device: challenged after a few.
    // (Addresses outside the placeholder hosting and VPN ranges: only the requests decide.)
    for (let i = 0; i < 6; i++) {
      await reset(gateway, { email: `trace${i}@example.com` }, { "user-agent": "curl/8.5.0 trace", "cf-connecting-ip": "203.0.113.201" });
    }
    const rows = await api<DecisionRow[]>(gateway, "decisions?limit=7");
    const challenged = rows.find((r) => r.verdict === "challenge");
    expect(challenged).toBeDefined();
    if (challenged === undefined) return;
    expect(challenged.reasons).toEqual(
      expect.arrayContaining([
        { code: "UA_AUTOMATION", rule: "ua-automation", weight: 35 },
        { code: "DISTINCT_ACCOUNTS_PER_DEVICE", rule: "accounts-per-device", weight: 35 },
      ]),
    );
    expect(challenged.events.map((e) => e.type)).toEqual(["decision", "challenge.issued"]);

    const allowed = rows.find((r) => r.verdict === "allow");
    expect(allowed?.events.map((e) => e.type)).toEqual(["decision", "forward"]);
    expect(allowed?.origin?.status).toBe(200);

    const view = await api<EventView>(gateway, `events/${challenged.event_id}`);
    expect(view.event).toMatchObject({ id: challenged.event_id, type: "decision", decision_id: challenged.decision_id });
    expect(view.ocsf).toMatchObject({ class_uid: 4002, disposition_id: 22, metadata: { uid: challenged.event_id, correlation_uid: challenged.decision_id } });
    const trace = await api<EventView[]>(gateway, `decisions/${challenged.decision_id}/events`);
    expect(trace.map((v) => v.event.id)).toEqual(challenged.events.map((e) => e.id));

    const summary = await api<DashboardSummary>(gateway, "summary?minutes=15");
    expect(summary.total).toBeGreaterThanOrEqual(6);
    expect(summary.reasons.map((r) => r.code)).toContain("UA_AUTOMATION");
    expect(summary.challenges.issued).toBeGreaterThanOrEqual(1);
    expect(summary.dependencies.find((d) => d.name === "store")?.requests).toBeGreaterThanOrEqual(6);
  });

  it("the gateway's events carry time-ordered ids (UUIDv7 of their time) and read back through the admin API as emitted", async () => {
    const gateway = await createGateway(env);
    const marker = crypto.randomUUID();
    const inputs: AuditInput[] = [
      { type: "admin.login", request_id: marker, decision_id: null, data: { success: false } },
      { type: "admin.login", request_id: marker, decision_id: null, data: { success: true } },
    ];
    // The gateway's own auditor stamps them (the ids a deployment makes) and its sinks deliver them to the hub.
    const events = gateway.audit.stamp(...inputs);
    await gateway.audit.deliver(events);
    for (const event of events) {
      expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Number.parseInt(event.id.slice(0, 8) + event.id.slice(9, 13), 16)).toBe(Date.parse(event.ts));
      const view = await api<EventView>(gateway, `events/${event.id}`);
      expect(view.event).toEqual(event);
      expect(view.ocsf).toMatchObject({ metadata: { uid: event.id } });
    }
  });

  it("an unknown event id is a 404, a malformed one a 400", async () => {
    const gateway = await createGateway(env);
    expect((await call(gateway, "/__riskgate/api/events/00000000-0000-0000-0000-000000000000", auth)).status).toBe(404);
    expect((await call(gateway, "/__riskgate/api/events/%3Cscript%3E", auth)).status).toBe(400);
    expect((await call(gateway, "/__riskgate/api/summary?minutes=99999", auth)).status).toBe(400);
  });
});

describe("hub", () => {
  it("counts a batch once even when the isolate retries it", async () => {
    const gateway = await createGateway(env);
    const events: AuditEvent[] = [];
    await reset(capturing(gateway, events), { email: "once@example.com" }, { "cf-connecting-ip": "192.0.2.202" });
    // What ingesting counts: not the outbox (its age gauge moves with the clock) nor the
    // remote deliveries, which the hub's alarm makes on its own schedule (a delivery
    // between two reads changed riskgate_audit_delivered_total under load).
    const counters = async () =>
      (await hub().prometheus())
        .split("\n")
        .filter((l) => !l.startsWith("riskgate_audit_outbox") && !l.startsWith("riskgate_audit_deliver"))
        .join("\n");
    const before = await counters();
    const entries = events.map((event) => ({ event, deliver: ["webhook" as const] }));
    await hub().ingest(entries);
    const once = await counters();
    await hub().ingest(entries);
    expect(await counters()).toBe(once);
    expect(once).not.toBe(before);
  });

  it("stores and counts a batch larger than one statement once, with a repeat inside it and a retry over it", async () => {
    // 45 events with a series each: more rows than one multi-row INSERT (20) or upsert (25, 33) takes.
    const run = crypto.randomUUID();
    const events = Array.from({ length: 45 }, (_, i) => {
      const input: AuditInput = {
        type: "ratelimit.step",
        request_id: null,
        decision_id: null,
        data: { ladder: `bulk-${run}-${i}`, step: 2, action: "deny", key: "ip", retry_after_s: 60 },
      };
      return stamp(input, { source: `bulk-${run}`, seq: i + 1, id: crypto.randomUUID(), rules: "r", now: Date.now() });
    });
    const entries = events.map((event) => ({ event, deliver: [] }));
    await hub().ingest([...entries.slice(0, 30), entries[0] as (typeof entries)[number]]);
    // A retry that overlaps the first batch and brings the rest.
    await hub().ingest(entries);
    const text = await hub().prometheus();
    const total = (i: number) => new RegExp(`^riskgate_rate_limit_steps_total\\{[^}]*ladder="bulk-${run}-${i}"[^}]*\\} (\\S+)$`, "m").exec(text)?.[1];
    expect(events.map((_, i) => total(i))).toEqual(events.map(() => "1"));
    const { rows } = await hub().summaryParts(5);
    const minutes = rows.filter((r) => r.name === "riskgate_rate_limit_steps_total" && r.labels.ladder?.startsWith(`bulk-${run}-`));
    expect(minutes.reduce((n, r) => n + r.value, 0)).toBe(45);
    for (const event of events) expect(((await hub().event(event.id)) as EventView | null)?.event.id).toBe(event.id);
  });

  it("counts a batch spanning two minutes in each event's minute, and its totals once", async () => {
    const run = crypto.randomUUID();
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    // Two ladders: `a` has steps in both minutes, `b` only in the second; one retry over all.
    const steps = [
      ["a", t0 + 1_000],
      ["a", t0 + 2_000],
      ["a", t0 + 61_000],
      ["b", t0 + 62_000],
      ["b", t0 + 63_000],
      ["b", t0 + 64_000],
    ] as const;
    const events = steps.map(([ladder, at], i) =>
      stamp(
        { type: "ratelimit.step", request_id: null, decision_id: null, at, data: { ladder: `min-${run}-${ladder}`, step: 2, action: "deny", key: "ip", retry_after_s: 60 } },
        { source: `min-${run}`, seq: i + 1, id: crypto.randomUUID(), rules: "r", now: at },
      ),
    );
    const entries = events.map((event) => ({ event, deliver: [] }));
    await hub().ingest(entries);
    await hub().ingest(entries);
    const { rows } = await hub().summaryParts(10);
    const mine = rows
      .filter((r) => r.name === "riskgate_rate_limit_steps_total" && r.labels.ladder?.startsWith(`min-${run}-`))
      .map((r) => [r.labels.ladder?.slice(-1), r.minute - t0, r.value])
      .sort((x, y) => String(x).localeCompare(String(y)));
    expect(mine).toEqual([
      ["a", 0, 2],
      ["a", 60_000, 1],
      ["b", 60_000, 3],
    ]);
    const text = await hub().prometheus();
    const total = (ladder: string) => new RegExp(`^riskgate_rate_limit_steps_total\\{[^}]*ladder="min-${run}-${ladder}"[^}]*\\} (\\S+)$`, "m").exec(text)?.[1];
    expect([total("a"), total("b")]).toEqual(["3", "3"]);
  });

  it("records a signing key seen for the first time after another as a rotation", async () => {
    const count = async () => Number(/riskgate_audit_events_total\{type="key.rotated"\} (\d+)/.exec(await hub().prometheus())?.[1] ?? 0);
    const start = await count();
    await hub().ingest([{ event: keyEvent(`old-${crypto.randomUUID()}`, 1), deliver: [] }]);
    const fresh = `new-${crypto.randomUUID()}`;
    await hub().ingest([{ event: keyEvent(fresh, 1), deliver: [] }]);
    await hub().ingest([{ event: keyEvent(fresh, 2), deliver: [] }]);
    expect(await count()).toBe(start + 2);
    const summary = await hub().summary(5);
    expect(summary.versions.some((v) => v.kind === "key" && v.value === fresh)).toBe(true);
  });

  it("an isolate's first events name its rule set and signing key", async () => {
    const fresh = await createGateway(env);
    const seen: AuditEvent[] = [];
    const auditor = createAuditor({
      source: "fresh",
      rules: fresh.ruleset.version,
      now: fresh.now,
      newId: fresh.newId,
      startup: startupEvents(fresh.ruleset, fresh.keys),
      sinks: [{ name: "capture", write: (b) => void seen.push(...b) }],
    });
    await reset({ ...fresh, audit: auditor }, { email: "start2@example.com" });
    expect(seen.map((e) => [e.seq, e.type])).toEqual([[1, "ruleset.loaded"], [2, "key.in_use"], [3, "decision"], [4, "forward"]]);
    expect(seen[0]?.data).toMatchObject({ version: fresh.ruleset.version, rules: fresh.ruleset.rules.length });
    expect(seen[1]?.data).toMatchObject({ kid: "dev-2026-1", alg: "ES256" });
  });
});
