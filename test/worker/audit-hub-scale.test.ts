// The audit hub at scale (issues 13.11 and 17.5): each shard keeps at most its row cap of
// events, dropping the oldest first and warning at 80 %; with AUDIT_HUB_SHARDS=2 a
// decision's events land together in one shard, and the admin API merges both shards.
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DashboardSummary, DecisionRow, EventView } from "../../src/audit/api-types.ts";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import { type Auditor, stamp } from "../../src/audit/auditor.ts";
import type { AuditEvent, AuditInput } from "../../src/audit/events.ts";
import type { RiskgateAuditHub } from "../../src/audit/hub/object.ts";
import { hubName } from "../../src/audit/hub/shards.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { shardOf } from "../../src/store/durable-object-store.ts";
import { call, reset } from "./support/http.ts";

const auth = { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } };

/** A hub object of its own (not `hub` or `hub-N`), so a test can lower its cap without touching others. */
function ownHub(label: string): DurableObjectStub<RiskgateAuditHub> {
  return env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName(`${label}-${crypto.randomUUID()}`));
}

function shard(n: number): DurableObjectStub<RiskgateAuditHub> {
  return env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName(hubName(n)));
}

function decisionEvent(i: number): AuditEvent {
  const input: AuditInput = {
    type: "forward",
    request_id: crypto.randomUUID(),
    decision_id: crypto.randomUUID(),
    data: { origin: "http://origin.test", ok: true, status: 200, error: null, ms: 3, respond: "uniform", attempts: 1, lost: false },
  };
  return stamp(input, { source: "cap-test", seq: i + 1, id: crypto.randomUUID(), rules: "r", now: Date.now() });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("audit hub row cap", () => {
  it("keeps at most the cap, drops the oldest first, and warns at 80 %", async () => {
    const stub = ownHub("cap");
    await stub.setLimits({ events: 20 });
    const logged: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logged.push(String(line)));
    const events = Array.from({ length: 30 }, (_, i) => decisionEvent(i));
    for (let i = 0; i < 30; i += 10) await stub.ingest(events.slice(i, i + 10).map((event) => ({ event, deliver: [] })));

    const stats = await stub.stats();
    expect(stats).toMatchObject({ events: 20, cap: 20, evicted: 10 });
    expect(stats.databaseSize).toBeGreaterThan(0);
    const stored = async (i: number) => ((await stub.event(events[i]?.id ?? "")) as EventView | null)?.event.id ?? null;
    expect(await stored(0)).toBeNull();
    expect(await stored(9)).toBeNull();
    expect(await stored(10)).toBe(events[10]?.id);
    expect(await stored(29)).toBe(events[29]?.id);
    // A retried batch of dropped events is stored again, not double-counted: the cap still holds.
    await stub.ingest(events.slice(0, 10).map((event) => ({ event, deliver: [] })));
    expect((await stub.stats()).events).toBe(20);

    const warnings = logged.filter((l) => l.includes("riskgate.audit_hub_near_cap")).map((l) => JSON.parse(l));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toMatchObject({ event: "riskgate.audit_hub_near_cap", near: ["rows"], rows: 20, cap: 20 });
  });

  it("warns when the object nears its storage limit, as an undelivered outbox grows", async () => {
    const stub = ownHub("size");
    const logged: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logged.push(String(line)));
    // Well under the row cap, but the webhook outbox keeps every event until delivered.
    await stub.ingest([decisionEvent(0)].map((event) => ({ event, deliver: ["webhook"] })));
    expect(logged.filter((l) => l.includes("riskgate.audit_hub_near_cap"))).toEqual([]);
    const { databaseSize } = await stub.stats();
    await stub.setLimits({ sizeBytes: databaseSize });
    await stub.ingest(Array.from({ length: 5 }, (_, i) => ({ event: decisionEvent(i + 1), deliver: ["webhook" as const] })));
    const warnings = logged.filter((l) => l.includes("riskgate.audit_hub_near_cap")).map((l) => JSON.parse(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ near: ["size"], rows: 6, outboxPending: 6, sizeLimit: databaseSize });
  });

  it("takes its cap from AUDIT_HUB_MAX_EVENTS", async () => {
    const stub = ownHub("cap-env");
    const cap = await runInDurableObject(stub, async (instance, state) => {
      const Hub = instance.constructor as new (ctx: DurableObjectState, env: unknown) => RiskgateAuditHub;
      const hub = new Hub(state, { ...env, AUDIT_HUB_MAX_EVENTS: "150" });
      await hub.ingest(Array.from({ length: 160 }, (_, i) => ({ event: decisionEvent(i), deliver: [] })));
      return hub.stats();
    });
    expect(cap).toMatchObject({ cap: 150, events: 150, evicted: 10 });
  });

  it("a bad AUDIT_HUB_MAX_EVENTS stops the gateway with a clear error", async () => {
    await expect(createGateway({ ...env, AUDIT_HUB_MAX_EVENTS: "ten" })).rejects.toThrow(/AUDIT_HUB_MAX_EVENTS must be an integer/);
    await expect(createGateway({ ...env, AUDIT_HUB_SHARDS: "0" })).rejects.toThrow(/AUDIT_HUB_SHARDS must be an integer/);
  });
});

/** The gateway, noting the decision id of every event its auditor sends. */
function noting(gateway: Gateway, decisions: Set<string>): Gateway {
  const note = (items: readonly { decision_id: string | null }[]) => {
    for (const i of items) if (i.decision_id !== null) decisions.add(i.decision_id);
  };
  const inner = gateway.audit;
  const audit: Auditor = {
    source: inner.source,
    emit: (...inputs) => {
      note(inputs);
      return inner.emit(...inputs);
    },
    stamp: (...inputs) => inner.stamp(...inputs),
    deliver: (events) => {
      note(events);
      return inner.deliver(events);
    },
  };
  return { ...gateway, audit };
}

async function api<T>(gateway: Gateway, path: string): Promise<T> {
  const res = await call(gateway, `/__riskgate/api/${path}`, auth);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

describe("sharded audit hub (AUDIT_HUB_SHARDS=2)", () => {
  it("routes each decision's events to one shard and the admin API merges both", async () => {
    const gateway = await createGateway({ ...env, AUDIT_HUB_SHARDS: "2" });
    const before = await Promise.all([shard(0).stats(), shard(1).stats()]);
    const decisions = new Set<string>();
    const traced = noting(gateway, decisions);
    // Decision ids are random: reset until both shards own at least two decisions (a
    // bound far past what chance needs, not a timing).
    for (let i = 0; i < 40; i++) {
      await reset(traced, { email: `shard${i}@example.com` }, { "cf-connecting-ip": `198.51.100.${10 + i}` });
      const owners = [...decisions].map((d) => shardOf(d, 2));
      if (owners.filter((o) => o === 0).length >= 2 && owners.filter((o) => o === 1).length >= 2) break;
    }
    const ids = [...decisions];
    expect(new Set(ids.map((d) => shardOf(d, 2)))).toEqual(new Set([0, 1]));
    const after = await Promise.all([shard(0).stats(), shard(1).stats()]);
    expect(after[0].events).toBeGreaterThan(before[0].events);
    expect(after[1].events).toBeGreaterThan(before[1].events);

    // The list holds decisions of both shards, newest first, each with its whole trail.
    const rows = await api<DecisionRow[]>(gateway, `decisions?limit=${ids.length}`);
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
    expect([...rows].map((r) => r.ts)).toEqual(rows.map((r) => r.ts).sort().reverse());
    for (const row of rows) {
      expect(row.events.map((e) => e.type)).toEqual(["decision", "forward"]);
      const trail = await api<EventView[]>(gateway, `decisions/${row.decision_id}/events`);
      expect(trail.map((v) => v.event.id)).toEqual(row.events.map((e) => e.id));
      const one = await api<EventView>(gateway, `events/${row.event_id}`);
      expect(one.event.decision_id).toBe(row.decision_id);
    }

    // Counts add up over shards; Prometheus names each series once.
    const summary = await api<DashboardSummary>(gateway, "summary?minutes=5");
    expect(summary.total).toBeGreaterThanOrEqual(ids.length);
    expect(summary.versions.some((v) => v.kind === "key")).toBe(true);
    const res = await call(gateway, "/__riskgate/metrics", auth);
    const series = (await res.text()).split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split(" ")[0] ?? "");
    expect(series.length).toBeGreaterThan(0);
    expect(new Set(series).size).toBe(series.length);
    expect(series.some((s) => s.startsWith("riskgate_decisions_total{"))).toBe(true);
  });
});
