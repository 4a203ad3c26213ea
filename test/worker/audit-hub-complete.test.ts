// The audit trail under concurrency (docs/audit.md): the hub sink coalesces an isolate's
// events into one RPC per window, and only the request that opened the window waits for
// the flush (src/audit/sinks/hub.ts). The promise that makes that safe: once every
// request has been answered and its waitUntil work is done, every event any of them
// emitted is in the hub, exactly once. Concurrent resets through one gateway, then each
// stamped event looked up in the real hub Durable Object.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventView } from "../../src/audit/api-types.ts";
import type { Auditor } from "../../src/audit/auditor.ts";
import type { AuditEvent } from "../../src/audit/events.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import type { RiskgateAuditHub } from "../../src/audit/hub/object.ts";
import { hubName } from "../../src/audit/hub/shards.ts";
import { reset } from "./support/http.ts";

/** The gateway with its real sinks, and every event it stamps kept for the check. */
function recording(gateway: Gateway, stamped: AuditEvent[]): Gateway {
  const inner = gateway.audit;
  const audit: Auditor = {
    source: inner.source,
    emit: (...inputs) => inner.emit(...inputs),
    deliver: (events) => inner.deliver(events),
    stamp: (...inputs) => {
      const events = inner.stamp(...inputs);
      stamped.push(...events);
      return events;
    },
  };
  return { ...gateway, audit };
}

describe("the hub under concurrent resets", () => {
  it("holds every event of every answered request, once", async () => {
    const stamped: AuditEvent[] = [];
    const gateway = recording(await createGateway(env), stamped);
    const n = 96;
    // Distinct networks and accounts, an ordinary browser: allowed and forwarded, so each
    // request emits a decision and a forward event (after the response, when its forward
    // has been delivered). All in flight at once, so most of them join a window another
    // request opened.
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        reset(gateway, { email: `hub-complete-${i}@example.com` }, { "cf-connecting-ip": `2001:db8:${(i + 1).toString(16)}::7`, "accept-language": "en-US,en;q=0.9" }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: n }, () => 202));

    const decisions = stamped.filter((e) => e.type === "decision");
    expect(decisions).toHaveLength(n);
    expect(stamped.filter((e) => e.type === "forward")).toHaveLength(n);

    // The one shard of the test environment (AUDIT_HUB_SHARDS unset).
    const stub: DurableObjectStub<RiskgateAuditHub> = env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName(hubName(0)));
    const missing: string[] = [];
    for (const event of stamped) {
      const view = (await stub.event(event.id)) as EventView | null;
      if (view === null) missing.push(`${event.type} ${event.id}`);
      else expect(view.event).toMatchObject({ id: event.id, type: event.type, seq: event.seq, source: event.source });
    }
    expect(missing).toEqual([]);
    // Once: each decision's trace in the hub is exactly the events stamped for it.
    for (const d of decisions) {
      const trace = (await stub.eventsOf(d.decision_id ?? "")) as EventView[];
      const mine = stamped.filter((e) => e.decision_id === d.decision_id).map((e) => e.id);
      expect(trace.map((v) => v.event.id).sort()).toEqual([...mine].sort());
    }
  });
});
