// The scale simulation's worker (bench/scale.mjs): the real audit hub and store Durable
// Objects behind a small driver API, so many concurrent clients (each standing for one
// gateway isolate) can load one hub shard and one store shard directly.
//   POST /hub?shard=NAME&requests=R&source=S&seq=Q[&deliver=webhook]  one isolate flush:
//        R requests' events (decision + forward each) to hub NAME (and its webhook outbox)
//   POST /hub/noop?shard=NAME                       one trivial RPC: the relay's fixed cost
//   GET  /hub/stats?shard=NAME                      rows, cap, SQLite size, rows read/written
//   POST /store?mode=do|global|upstash              one reset-shaped observe (distinct keys);
//                                                  global: only the `global` window's hit
//   GET  /store/stats                               store shard-0 stats, rows read/written
//   GET  /upstash/bytes                             bytes sent/received to the Upstash REST URL
// The objects' SQL is wrapped to sum each statement's rowsRead/rowsWritten (what Durable
// Objects bill), read through the stats routes.
import { stamp } from "../../src/audit/auditor.ts";
import type { AuditEvent, AuditInput } from "../../src/audit/events.ts";
import { RiskgateAuditHub as Hub } from "../../src/audit/hub/object.ts";
import type { Env } from "../../src/shared/env.ts";
import { RiskgateStore as Store } from "../../src/store/durable-object.ts";
import { DurableObjectStore, type StoreNamespace } from "../../src/store/durable-object-store.ts";
import type { ObserveRequest } from "../../src/store/port.ts";
import { UpstashStore } from "../../src/store/upstash.ts";

interface ScaleEnv extends Env {
  RISKGATE_AUDIT: DurableObjectNamespace<RiskgateAuditHub>;
  RISKGATE_STORE: DurableObjectNamespace<RiskgateStore>;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
}

/** Rows read and written by every SQL statement of one object. */
class RowTally {
  read = 0;
  written = 0;
  private open: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  track<T extends SqlStorageCursor<Record<string, SqlStorageValue>>>(cursor: T): T {
    this.open.push(cursor);
    if (this.open.length > 1000) this.settle();
    return cursor;
  }
  settle(): { read: number; written: number } {
    for (const c of this.open) {
      this.read += c.rowsRead;
      this.written += c.rowsWritten;
    }
    this.open = [];
    return { read: this.read, written: this.written };
  }
}

/**
 * Tally the object's `storage.sql.exec` in place (the Durable Object base class accepts
 * only the real state, so the state itself cannot be wrapped).
 */
function tallied(ctx: DurableObjectState, tally: RowTally): DurableObjectState {
  const sql = ctx.storage.sql;
  const exec = sql.exec.bind(sql);
  Object.defineProperty(sql, "exec", {
    value: (query: string, ...args: SqlStorageValue[]) => tally.track(exec(query, ...args)),
    configurable: true,
  });
  if (ctx.storage.sql !== sql) throw new Error("storage.sql is not one object: the tally would miss statements");
  return ctx;
}

export class RiskgateAuditHub extends Hub {
  private readonly rowTally: RowTally;
  constructor(ctx: DurableObjectState, env: Env) {
    const tally = new RowTally();
    super(tallied(ctx, tally), env);
    this.rowTally = tally;
  }
  async rows(): Promise<{ read: number; written: number }> {
    return this.rowTally.settle();
  }
}

export class RiskgateStore extends Store {
  private readonly rowTally: RowTally;
  constructor(ctx: DurableObjectState, env: Env) {
    const tally = new RowTally();
    super(tallied(ctx, tally), env);
    this.rowTally = tally;
  }
  async rows(): Promise<{ read: number; written: number }> {
    return this.rowTally.settle();
  }
}

// Bytes to and from the Upstash REST endpoint, counted at this isolate's fetch.
const upstashBytes = { sent: 0, received: 0, requests: 0 };
const realFetch = globalThis.fetch;
globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
  const request = new Request(input, init);
  const body = await request.clone().arrayBuffer();
  upstashBytes.sent += body.byteLength;
  upstashBytes.requests += 1;
  const response = await realFetch(request);
  const answer = await response.arrayBuffer();
  upstashBytes.received += answer.byteLength;
  return new Response(answer, { status: response.status, headers: response.headers });
};

/** A 64-hex-character stand-in for an HMAC'd identifier (what the gateway stores). */
function hmacLike(): string {
  return crypto.randomUUID().replace(/-/g, "") + crypto.randomUUID().replace(/-/g, "");
}

/**
 * The store batch of one distinct allowed reset under the shipped rules (docs/store.md:
 * 7 windows incl. `global`, 5 distinct counts, the history read, 8 ladder steps).
 */
function resetBatch(now: number): ObserveRequest {
  const id = { account: hmacLike(), ip: hmacLike(), subnet: hmacLike(), device: hmacLike(), asn: hmacLike() };
  return {
    now,
    hits: [
      ...Object.entries(id).map(([k, v]) => ({ key: `v:${k}:${v}`, windowMs: 600_000 })),
      { key: `v:account:${id.account}`, windowMs: 86_400_000 },
      { key: "v:global:global", windowMs: 60_000 },
    ],
    distinct: [
      ["ip:account", id.ip, id.account],
      ["subnet:account", id.subnet, id.account],
      ["device:account", id.device, id.account],
      ["account:ip", id.account, id.ip],
      ["account:device", id.account, id.device],
    ].map(([d, key, member]) => ({ key: `d:${d}:${key}`, member: member ?? "", windowMs: 3_600_000 })),
    historyKey: `h:${id.account}`,
    limits: [
      ...[60_000, 3_600_000, 86_400_000].map((w, i) => ({ key: `rl:ip:${i}:${id.ip}`, limit: 20 * (i + 1), windowMs: w, cache: true })),
      ...[60_000, 3_600_000, 86_400_000].map((w, i) => ({ key: `rl:acct:${i}:${id.account}`, limit: 5 * (i + 1), windowMs: w, cache: true })),
      ...[60_000, 3_600_000].map((w, i) => ({ key: `rl:dev:${i}:${id.device}`, limit: 10 * (i + 1), windowMs: w, cache: true })),
    ],
  };
}

/** One allowed reset's events, shaped as the gateway emits them (decision, forward). */
function requestEvents(source: string, seq: number, now: number): AuditEvent[] {
  const request_id = crypto.randomUUID();
  const decision_id = crypto.randomUUID();
  const decision: AuditInput = {
    type: "decision",
    request_id,
    decision_id,
    data: {
      route: "/password/reset",
      method: "POST",
      verdict: "allow",
      tier: "low",
      score: 10,
      channel: "email_link",
      mode: "live",
      reasons: [{ code: "DEVICE_NEW_FOR_ACCOUNT", rule: "new-device", weight: 10 }],
      shadow_reasons: [],
      errors: [],
      action: "forwarded",
      account: hmacLike().slice(0, 22),
      ip: hmacLike().slice(0, 22),
      device: hmacLike().slice(0, 22),
      country: "NL",
      asn: 64500,
      store: "durable-object",
      store_ms: 3,
      ms: 7,
      facts: {
        velocity: { ip_10m: 1, account_10m: 1, account_24h: 1, subnet_10m: 1, device_10m: 1, asn_10m: 1, global_1m: 412 },
        distinct: { accounts_per_ip_1h: 1, accounts_per_subnet_1h: 1, accounts_per_device_1h: 1, ips_per_account_1h: 1, devices_per_account_1h: 1 },
        device: { browser: "Chrome", os: "Windows", automation: false, cookie: "new", key_strength: "none" },
        network: { datacenter: false, tor: false, proxy: false, reputation: "none", country: "NL", asn: 64500 },
        account: { new_device: true, new_country: false, new_asn: false, privileged: false, impossible_travel: false },
      },
      candidate: null,
    },
  } as AuditInput;
  const forward: AuditInput = {
    type: "forward",
    request_id,
    decision_id,
    data: { origin: "https://origin.example", ok: true, status: 200, error: null, ms: 41, respond: "uniform", attempts: 1, lost: false },
  };
  return [
    stamp(decision, { source, seq, id: crypto.randomUUID(), rules: "bench", now }),
    stamp(forward, { source, seq: seq + 1, id: crypto.randomUUID(), rules: "bench", now }),
  ];
}

let doStore: DurableObjectStore | undefined;
let upstash: UpstashStore | undefined;

export default {
  async fetch(request: Request, env: ScaleEnv): Promise<Response> {
    const url = new URL(request.url);
    const q = (name: string, fallback = "") => url.searchParams.get(name) ?? fallback;
    const hub = () => env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName(q("shard", "hub")));
    if (url.pathname === "/hub" && request.method === "POST") {
      const now = Date.now();
      const source = q("source", "bench");
      const first = Number(q("seq", "1"));
      const events = Array.from({ length: Number(q("requests", "1")) }, (_, i) => requestEvents(source, first + 2 * i, now)).flat();
      const deliver = q("deliver") === "webhook" ? (["webhook"] as const) : [];
      await hub().ingest(events.map((event) => ({ event, deliver })));
      return Response.json({ events: events.length, json: events.reduce((n, e) => n + JSON.stringify(e).length, 0) });
    }
    if (url.pathname === "/hub/cap" && request.method === "POST") {
      await hub().setLimits({ events: Number(q("cap")) });
      return Response.json({ ok: true });
    }
    // The fixed cost of one call (HTTP relay + one small RPC), to subtract from the others.
    if (url.pathname === "/hub/noop" && request.method === "POST") {
      await hub().setLimits({ events: 50_000 });
      return Response.json({ ok: true });
    }
    if (url.pathname === "/hub/stats") return Response.json({ ...(await hub().stats()), rows: await hub().rows() });
    if (url.pathname === "/store" && request.method === "POST") {
      const mode = q("mode", "do");
      let store: DurableObjectStore | UpstashStore;
      if (mode === "upstash") {
        upstash ??= new UpstashStore({ url: env.UPSTASH_REDIS_REST_URL ?? "", token: env.UPSTASH_REDIS_REST_TOKEN ?? "", timeoutMs: 30_000 });
        store = upstash;
      } else {
        doStore ??= new DurableObjectStore({ namespace: env.RISKGATE_STORE as unknown as StoreNamespace, shards: 1, timeoutMs: 30_000 });
        store = doStore;
      }
      const now = Date.now();
      // `global`: only the site-wide window, which lands on one shard whatever STORE_SHARDS is.
      const batch: ObserveRequest =
        mode === "global" ? { now, hits: [{ key: "v:global:global", windowMs: 60_000 }], distinct: [], historyKey: null } : resetBatch(now);
      const result = await store.observe(batch);
      return Response.json({ blocked: result.blocked !== null });
    }
    if (url.pathname === "/store/stats") {
      const stub = env.RISKGATE_STORE.get(env.RISKGATE_STORE.idFromName("shard-0"));
      return Response.json({ ...(await stub.stats()), rows: await stub.rows() });
    }
    if (url.pathname === "/upstash/bytes") return Response.json(upstashBytes);
    return new Response("not found", { status: 404 });
  },
};
