// The audit hub ingest bench's worker (bench/hub-ingest.mjs): the real audit hub Durable
// Object, fed flushes of allowed resets' events from inside workerd, so the HTTP call that
// starts a run is a small share of it.
//   POST /ingest?shard=NAME&requests=R&flushes=F&seq=Q[&dry=1][&ids=v4|v7|v7all][&deliver=webhook]  F flushes of R
//        requests' events (decision + forward each) to hub NAME, one after the other; dry=1: build
//        them only; deliver=webhook: into the outbox too; ids: random event ids (v4, default) or time-ordered ones (v7; v7all: decision ids too)
//   POST /cap?shard=NAME&cap=N                                   lower the shard's row cap
//   GET  /stats?shard=NAME                                       the shard's stats()
import { stamp } from "../../src/audit/auditor.ts";
import type { AuditEvent, AuditInput } from "../../src/audit/events.ts";
import { RiskgateAuditHub } from "../../src/audit/hub/object.ts";
import type { Env } from "../../src/shared/env.ts";

export { RiskgateAuditHub };

interface BenchEnv extends Env {
  RISKGATE_AUDIT: DurableObjectNamespace<RiskgateAuditHub>;
}

const hex = () => crypto.randomUUID().replace(/-/g, "");

/** A UUIDv7 as src/shared/event-id.ts makes them (copied: a ref's tree may predate that file). */
function uuidv7(ms: number): string {
  const random = crypto.randomUUID();
  const hex = Math.floor(ms).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${random.slice(15)}`;
}

/** How the bench makes ids: random UUIDs (v4, as the gateway made event ids before hubev), or time-ordered UUIDv7 for event ids (`v7`) and decision ids too (`v7all`). */
let idMode = "v4";
const eventId = (now: number) => (idMode === "v4" ? crypto.randomUUID() : uuidv7(now));
const decisionId = (now: number) => (idMode === "v7all" ? uuidv7(now) : crypto.randomUUID());

/** One allowed reset's events as the gateway emits them (decision, forward); timings vary as traffic's do. */
function requestEvents(seq: number, now: number): AuditEvent[] {
  const ids = { request_id: crypto.randomUUID(), decision_id: decisionId(now) };
  const decision: AuditInput = {
    type: "decision",
    ...ids,
    data: {
      route: "/password/reset",
      method: "POST",
      verdict: "allow",
      tier: "low",
      score: seq % 3 === 0 ? 10 : 0,
      channel: "email_link",
      mode: "live",
      reasons: seq % 3 === 0 ? [{ code: "DEVICE_NEW_FOR_ACCOUNT", rule: "new-device", weight: 10 }] : [],
      shadow_reasons: [],
      errors: [],
      action: "forwarded",
      account: hex().slice(0, 22),
      account_counted: hex().slice(0, 22),
      ip: hex().slice(0, 22),
      device: hex().slice(0, 22),
      experiment: null,
      country: "NL",
      asn: 64500,
      store: "upstash",
      store_ms: 1 + (seq % 7),
      ms: 2 + (seq % 11),
      facts: {
        velocity: { ip_10m: 1, account_10m: 1, account_24h: 1, subnet_10m: 1, device_10m: 1, asn_10m: 1, global_1m: 412 },
        distinct: { accounts_per_ip_1h: 1, accounts_per_subnet_1h: 1, accounts_per_device_1h: 1, ips_per_account_1h: 1, devices_per_account_1h: 1 },
        device: { browser: "Chrome", os: "Windows", cookie: "new" },
        network: { country: "NL", asn: 64500 },
      },
      candidate: null,
    },
  } as AuditInput;
  const forward: AuditInput = {
    type: "forward",
    ...ids,
    data: { origin: "https://origin.example", ok: true, status: 200, error: null, ms: 1 + (seq % 13), respond: "uniform", attempts: 1, lost: false },
  };
  return [
    stamp(decision, { source: "bench", seq, id: eventId(now), rules: "bench", now }),
    stamp(forward, { source: "bench", seq: seq + 1, id: eventId(now), rules: "bench", now }),
  ];
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    const q = (name: string, fallback = "") => url.searchParams.get(name) ?? fallback;
    idMode = q("ids", "v4");
    const hub = env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName(q("shard", "hub")));
    if (url.pathname === "/ingest" && request.method === "POST") {
      const requests = Number(q("requests", "1"));
      // deliver=webhook: every event also queued in the outbox for the SIEM webhook, as with AUDIT_WEBHOOK_URL set
      // (none is configured here, so the alarm's attempts fail and back off: the rows stay, as for a sink that is down).
      const deliver: ("webhook" | "queue")[] = q("deliver") === "webhook" ? ["webhook"] : [];
      let seq = Number(q("seq", "1"));
      for (let f = 0; f < Number(q("flushes", "1")); f++) {
        const now = Date.now();
        const events = Array.from({ length: requests }, (_, i) => requestEvents(seq + 2 * i, now)).flat();
        seq += 2 * requests;
        if (q("dry") !== "1") await hub.ingest(events.map((event) => ({ event, deliver })));
      }
      return Response.json({ seq });
    }
    if (url.pathname === "/cap" && request.method === "POST") {
      await hub.setLimits({ events: Number(q("cap")) });
      return Response.json({ ok: true });
    }
    if (url.pathname === "/stats") return Response.json(await hub.stats());
    return new Response("not found", { status: 404 });
  },
};
