// The SIEM webhook through a receiver that fails, hangs and recovers: nothing is lost,
// every request is signed, duplicates are possible (at least once) and a gap in the
// per-source sequence numbers is detectable. Time is passed to the hub explicitly.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventView, SinkStatus } from "../../src/audit/api-types.ts";
import { createAuditor } from "../../src/audit/auditor.ts";
import { findGaps } from "../../src/audit/sequence.ts";
import { durableSink } from "../../src/audit/sinks/hub.ts";
import { createGateway } from "../../src/gateway/gateway.ts";
import { eventId } from "../../src/shared/event-id.ts";
import { hub, receiver, reset } from "./support/http.ts";

interface OcsfOut {
  metadata: { uid: string; sequence: number };
  unmapped: { riskgate: { source: string; type: string; decision_id: string | null } };
}

const webhook = (status: SinkStatus[]) => status.find((s) => s.sink === "webhook");

async function receivedFrom(source: string): Promise<OcsfOut[]> {
  const batches = await receiver.received();
  expect(batches.length).toBeGreaterThan(0);
  for (const b of batches) expect(b.signatureError).toBeNull();
  return batches
    .flatMap((b) => (JSON.parse(b.body) as { events: OcsfOut[] }).events)
    .filter((e) => e.unmapped.riskgate.source === source);
}

describe("audit webhook", () => {
  it("survives a failing, then hanging SIEM and delivers everything once it recovers", async () => {
    await receiver.mode("fail");
    // A fresh gateway: its own source id, so its sequence numbers are ours alone.
    const gateway = await createGateway(env);
    for (let i = 0; i < 3; i++) expect((await reset(gateway, { email: `hook${i}@example.com` })).status).toBe(202);
    // ruleset.loaded and key.in_use (1, 2), then decision + forward per request (3..8).
    const expected = [1, 2, 3, 4, 5, 6, 7, 8];
    const t0 = Date.now() + 60_000;

    const failed = webhook(await hub().deliver(t0));
    expect(failed).toMatchObject({ lastError: "WEBHOOK_HTTP_500", delivered: 0 });
    expect(failed?.pending).toBeGreaterThanOrEqual(expected.length);

    await receiver.mode("hang");
    const hung = webhook(await hub().deliver(t0 + 10 * 60_000));
    expect(hung).toMatchObject({ lastError: "WEBHOOK_TIMEOUT", pending: failed?.pending });
    expect(hung?.attempts).toBeGreaterThan(failed?.attempts ?? 0);

    await receiver.mode("ok");
    let status = webhook(await hub().deliver(t0 + 60 * 60_000));
    for (let i = 1; i < 10 && (status?.pending ?? 0) > 0; i++) status = webhook(await hub().deliver(t0 + (60 + i) * 60_000));
    expect(status).toMatchObject({ pending: 0, attempts: 0 });

    const mine = await receivedFrom(gateway.audit.source);
    const unique = new Map(mine.map((e) => [e.metadata.uid, e]));
    expect([...unique.values()].map((e) => e.metadata.sequence).sort((a, b) => a - b)).toEqual(expected);
    expect(findGaps([...unique.values()].map((e) => ({ source: gateway.audit.source, seq: e.metadata.sequence })))).toEqual([]);
    // The failed and hung attempts reached the receiver too: at least once, de-duplicated by id.
    expect(mine.length).toBeGreaterThan(unique.size);

    // Had the SIEM lost event 5, the numbering shows it.
    const lost = [...unique.values()].filter((e) => e.metadata.sequence !== 5);
    expect(findGaps(lost.map((e) => ({ source: gateway.audit.source, seq: e.metadata.sequence })))).toEqual([
      { source: gateway.audit.source, from: 5, to: 5 },
    ]);
  });

  it("a batch larger than one outbox statement is queued once, in order, and delivered as it was stored", async () => {
    await receiver.mode("ok");
    const source = `outbox-${crypto.randomUUID()}`;
    const audit = createAuditor({ source, rules: "r", now: Date.now, newId: eventId, sinks: [] });
    // 70 events: more rows than one outbox INSERT takes (33), with data that differs per event.
    const events = audit.stamp(
      ...Array.from({ length: 70 }, (_, i) => ({
        type: "ratelimit.step" as const,
        request_id: `r-${i}`,
        decision_id: null,
        data: { ladder: `outbox-${i}`, step: 2, action: "deny" as const, key: "ip", retry_after_s: i },
      })),
    );
    const entries = events.map((event) => ({ event, deliver: ["webhook" as const] }));
    const pending = async () => webhook(await hub().deliver(0))?.pending ?? 0;
    const before = await pending();
    await hub().ingest(entries);
    expect(await pending()).toBe(before + 70);
    // A retried batch (the isolate lost the answer) queues nothing again.
    await hub().ingest(entries);
    expect(await pending()).toBe(before + 70);

    let status = webhook(await hub().deliver(Date.now() + 24 * 60 * 60_000));
    for (let i = 1; i < 10 && (status?.pending ?? 0) > 0; i++) status = webhook(await hub().deliver(Date.now() + (24 * 60 + i) * 60_000));
    expect(status?.pending).toBe(0);
    const mine = await receivedFrom(source);
    expect(mine.map((e) => e.metadata.sequence)).toEqual(events.map((e) => e.seq));
    expect(mine.map((e) => e.metadata.uid)).toEqual(events.map((e) => e.id));
    // The delivered events are the stored ones: what the admin API reads for each id.
    for (const [i, event] of events.entries()) {
      expect((mine[i] as OcsfOut & { unmapped: { riskgate: { data: unknown } } }).unmapped.riskgate.data).toEqual(event.data);
      expect(((await hub().event(event.id)) as EventView | null)?.event).toEqual(event);
    }
  });

  it("a failed queue send is kept in the outbox and retried by the hub", async () => {
    const gateway = await createGateway(env);
    // The isolate's direct send fails, so these events go to the hub for the queue.
    const failingQueue = { sendBatch: () => Promise.reject(new Error("queue unavailable")) };
    const audit = createAuditor({
      source: "queue-test",
      rules: gateway.ruleset.version,
      now: gateway.now,
      newId: gateway.newId,
      sinks: [durableSink({ hub, queue: failingQueue, webhook: false, format: "ocsf" })],
    });
    await audit.emit({ type: "admin.login", request_id: null, decision_id: null, data: { success: true } });
    // A clock of 0: nothing is due, so this only reads the outbox state.
    const before = (await hub().deliver(0)).find((s) => s.sink === "queue");
    expect(before?.pending).toBe(1);
    // The hub's own send goes to the real (local) queue binding and succeeds.
    const after = (await hub().deliver(Date.now() + 60_000)).find((s) => s.sink === "queue");
    expect(after).toMatchObject({ pending: 0, delivered: 1 });
  });
});
