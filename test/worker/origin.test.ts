// Forwarding details: key rotation, origin failures (answered 202 at once, then retried
// after the response, in waitUntil or through RESET_QUEUE, and recorded lost when every
// attempt failed), `respond: origin`, and the decision log line written after the response.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { DEV_SIGNING_KEY } from "../../src/origin/signing-keys.ts";
import type { AuditEvent } from "../../src/audit/events.ts";
import { incrementsFor } from "../../src/metrics/from-event.ts";
import { findGaps } from "../../src/audit/sequence.ts";
import { UNIFORM_BODY } from "../../src/reset/act.ts";
import { type ForwardJob, IN_REQUEST_ATTEMPTS, QUEUE_ATTEMPTS, QUEUE_MESSAGE_UNREADABLE, type QueuedForward, retryForwards } from "../../src/reset/deliver.ts";
import { sealJob } from "../../src/reset/queue-seal.ts";

interface Received {
  accepted: boolean;
  status?: number;
  claims?: Record<string, unknown>;
  headers?: Record<string, string>;
}

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";

async function gatewayWith(overrides: Partial<Record<string, string>>, edit?: (g: Gateway) => Gateway): Promise<Gateway> {
  const g = await createGateway({ ...env, ...overrides });
  return edit ? edit(g) : g;
}

async function send(gateway: Gateway, headers: Record<string, string> = {}, email = "erin@example.com") {
  const app = createApp(async () => gateway);
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request("https://gateway.test/password/reset", {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": UA, "cf-connecting-ip": "192.0.2.44", ...headers },
      body: JSON.stringify({ email, password: "hunter2-should-never-be-logged" }),
    }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

async function newKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: "ES256" };
}

afterEach(() => vi.restoreAllMocks());

/** Every string and byte array in a value, as text (bytes read as Latin-1), to search for clear text. */
function readable(value: unknown): string {
  // The sealed parts are base64: decoded, so a clear address inside them would show.
  if (typeof value === "string") return /^[A-Za-z0-9+/]{16,}={0,2}$/.test(value) ? `${value}\n${atob(value)}` : value;
  if (value instanceof Uint8Array) return String.fromCharCode(...value);
  if (value !== null && typeof value === "object") return Object.values(value).map(readable).join("\n");
  return String(value);
}

describe("key rotation", () => {
  it("signs with the first key and still publishes the previous one", async () => {
    const next = await newKey("2026-12");
    let forwarded: Request | undefined;
    const gateway = await gatewayWith({ DECISION_SIGNING_KEYS: JSON.stringify([next, DEV_SIGNING_KEY]) }, (g) => ({
      ...g,
      // Capture what would reach the origin (the demo origin only trusts the dev key).
      fetcher: async (input, init) => {
        forwarded = new Request(input, init);
        return new Response("{}");
      },
    }));
    const jwks = { keys: [...gateway.keys.publicJwks] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(["2026-12", "dev-2026-1"]);

    // A token signed before the rotation (old key) verifies against the new JWKS ...
    const { kty, crv, x, y, d } = DEV_SIGNING_KEY;
    const oldKey = await crypto.subtle.importKey("jwk", { kty, crv, x, y, d } as JsonWebKey, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    const before = await new SignJWT({ verdict: "allow" })
      .setProtectedHeader({ alg: "ES256", kid: "dev-2026-1" })
      .setIssuer("riskgate").setAudience("o").setExpirationTime("60s")
      .sign(oldKey);
    await expect(jwtVerify(before, createLocalJWKSet(jwks), { audience: "o" })).resolves.toBeTruthy();

    // ... and what the gateway sends now carries the new kid.
    const res = await send(gateway);
    expect(res.status).toBe(202);
    const token = forwarded?.headers.get("riskgate-decision") ?? "";
    const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { audience: env.ORIGIN_URL });
    expect(protectedHeader.kid).toBe("2026-12");
  });
});

/** A gateway whose audit events are captured (and still numbered as in production). */
function capturing(g: Gateway, events: AuditEvent[]): Gateway {
  return { ...g, audit: { ...g.audit, deliver: async (batch) => void events.push(...batch), emit: async (...inputs) => void events.push(...g.audit.stamp(...inputs)) } };
}

const forwards = (events: AuditEvent[]) => events.filter((e) => e.type === "forward").map((e) => e.data);

describe("origin failures: the client's 202 first, then retries (no RESET_QUEUE: within waitUntil)", () => {
  it.each([
    ["unreachable", { ORIGIN_URL: "http://127.0.0.1:9" }, {}, "ORIGIN_UNAVAILABLE", null],
    ["too slow", {}, { "x-demo-delay-ms": "2000" }, "ORIGIN_TIMEOUT", null],
    ["answering 503", {}, { "x-demo-fail-first": "99" }, "ORIGIN_ERROR", 503],
  ])("%s: the client gets the uniform 202, every attempt fails, the reset is recorded lost", async (_n, envOver, headers, code, status) => {
    const lines: DecisionLogLine[] = [];
    const events: AuditEvent[] = [];
    const gateway = await gatewayWith({ ...envOver, RESET_QUEUE: undefined }, (g) =>
      capturing({ ...g, ruleset: { ...g.ruleset, originTimeoutMs: 200 }, log: (line) => lines.push(line) }, events),
    );
    // Its own account and address: the ladders count across this file's requests.
    const res = await send(gateway, { "cf-connecting-ip": `192.0.2.${10 + Math.floor(Math.random() * 200)}`, ...headers }, `fail-${crypto.randomUUID()}@example.com`);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual(UNIFORM_BODY);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.errors).toContainEqual({ dependency: "origin", code, failMode: "allow" });
    expect(lines[0]?.origin_status).toBe(status);
    // One forward event, after the last attempt: not ok (a 5xx included), lost, counted.
    expect(forwards(events)).toEqual([
      expect.objectContaining({ ok: false, status, error: code, attempts: IN_REQUEST_ATTEMPTS, lost: true, respond: "uniform" }),
    ]);
    const lost = events.flatMap(incrementsFor).filter((i) => i.name === "riskgate_resets_lost_total");
    expect(lost).toHaveLength(1);
  });

  it("an origin that recovers gets the reset once: every attempt carries one decision id (jti and Riskgate-Decision-Id) to de-duplicate on", async () => {
    const events: AuditEvent[] = [];
    const gateway = await gatewayWith({ RESET_QUEUE: undefined }, (g) => capturing(g, events));
    const id = crypto.randomUUID();
    const res = await send(gateway, { "x-demo-fail-first": "2", "x-test-id": id }, `recover-${id}@example.com`);
    expect(res.status).toBe(202);
    const log = ((await (await fetch(`${env.ORIGIN_URL}/__demo/received`)).json()) as { received: Received[] }).received;
    const mine = log.filter((r) => r.headers?.["x-test-id"] === id);
    expect(mine.map((r) => r.status ?? (r.accepted ? 200 : 401))).toEqual([503, 503, 200]);
    const ids = new Set(mine.map((r) => r.headers?.["riskgate-decision-id"]));
    expect(ids.size).toBe(1);
    expect(mine[2]?.claims?.jti).toBe([...ids][0]);
    expect(forwards(events)).toEqual([expect.objectContaining({ ok: true, status: 200, error: null, attempts: 3, lost: false })]);
  });

  it("with RESET_QUEUE bound, a failed first attempt is retried by the queue consumer until the origin takes it", async () => {
    const lines: DecisionLogLine[] = [];
    // What goes onto miniflare's queue, passed on to it unchanged.
    const sent: QueuedForward[] = [];
    const gateway = await gatewayWith({}, (g) => {
      const queue = g.resetQueue as Queue<QueuedForward>;
      const send = (m: QueuedForward, o?: QueueSendOptions) => {
        sent.push(m);
        return queue.send(m, o);
      };
      const spy = { send, sendBatch: queue.sendBatch.bind(queue) };
      return { ...g, resetQueue: spy as Queue<QueuedForward>, log: (line) => lines.push(line) };
    });
    expect(gateway.resetQueue).not.toBeNull();
    const id = crypto.randomUUID();
    const email = `queued-${id}@example.com`;
    const res = await send(gateway, { "x-demo-fail-first": "1", "x-test-id": id, "cf-connecting-ip": "198.51.100.77" }, email);
    expect(res.status).toBe(202);
    expect(lines[0]?.origin_status).toBe(503);
    // The message holds neither the address nor anything else the client sent in clear:
    // no email, password, IP or header, in any string or byte array of it.
    expect(sent).toHaveLength(1);
    const clear = readable(sent[0]);
    for (const secret of [email, "queued-", "hunter2", "198.51.100.77", id, "Macintosh"]) expect(clear).not.toContain(secret);
    expect(clear).toContain(sent[0]?.decision.id);
    // The queue delivers the retry after its backoff delay (seconds): poll for it.
    await expect
      .poll(async () => {
        const log = ((await (await fetch(`${env.ORIGIN_URL}/__demo/received`)).json()) as { received: Received[] }).received;
        return log.filter((r) => r.headers?.["x-test-id"] === id).map((r) => r.status ?? (r.accepted ? 200 : 401));
      }, { timeout: 60_000, interval: 250 })
      .toEqual([503, 200]);
  });

  it("the queue consumer gives up after QUEUE_ATTEMPTS and records the reset lost", async () => {
    const events: AuditEvent[] = [];
    const gateway = await gatewayWith({ ORIGIN_URL: "http://127.0.0.1:9" }, (g) => capturing(g, events));
    const decision = { id: "d-queue-1", verdict: "allow", tier: "low", score: 0, channel: "email_link", channels: ["email_link"], reasons: [], mode: "live", errors: [], rulesetVersion: gateway.ruleset.version } as const;
    const job: ForwardJob = {
      method: "POST",
      url: "https://gateway.test/password/reset",
      headers: [["content-type", "application/json"]],
      body: new TextEncoder().encode('{"email":"x@example.com"}'),
      clientIp: "192.0.2.1",
      decision,
      accountKey: "k".repeat(22),
      extra: {},
      requestId: "r-1",
      at: 0,
      respond: "uniform",
    };
    const acts: string[] = [];
    const body = await sealJob(job, gateway.config.hmacSecret);
    const message = (attempts: number) => ({ body, attempts, id: `m${attempts}`, timestamp: new Date(), ack: () => acts.push(`ack ${attempts}`), retry: () => acts.push(`retry ${attempts}`) });
    // Delivery n is attempt n + 1 (the request made the first).
    await retryForwards({ messages: [message(1), message(QUEUE_ATTEMPTS - 1)] } as unknown as MessageBatch<QueuedForward>, gateway);
    expect(acts).toEqual(["retry 1", `ack ${QUEUE_ATTEMPTS - 1}`]);
    expect(forwards(events)).toEqual([expect.objectContaining({ ok: false, error: "ORIGIN_UNAVAILABLE", attempts: QUEUE_ATTEMPTS, lost: true })]);
    expect(events[events.length - 1]?.decision_id).toBe("d-queue-1");
  });

  it("a queued reset the consumer cannot decrypt (altered, moved to another decision, another secret) is lost, counted, never forwarded", async () => {
    const events: AuditEvent[] = [];
    const gateway = await gatewayWith({}, (g) => capturing(g, events));
    const decision = { id: "d-seal-1", verdict: "allow", tier: "low", score: 0, channel: "email_link", channels: ["email_link"], reasons: [], mode: "live", errors: [], rulesetVersion: gateway.ruleset.version } as const;
    const job: ForwardJob = {
      method: "POST",
      url: "https://gateway.test/password/reset",
      headers: [["content-type", "application/json"], ["x-test-id", `sealed-${crypto.randomUUID()}`]],
      body: new TextEncoder().encode('{"email":"sealed@example.com"}'),
      clientIp: "192.0.2.1",
      decision,
      accountKey: "k".repeat(22),
      extra: {},
      requestId: "r-seal",
      at: 0,
      respond: "uniform",
    };
    const sealed = await sealJob(job, gateway.config.hmacSecret);
    const bytes = Uint8Array.from(atob(sealed.sealed.data), (c) => c.charCodeAt(0));
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    const flipped = btoa(String.fromCharCode(...bytes));
    const bodies: QueuedForward[] = [
      { ...sealed, sealed: { iv: sealed.sealed.iv, data: flipped } },
      { ...sealed, decision: { ...decision, id: "d-seal-2" } },
      await sealJob(job, "another-secret-of-at-least-thirty-two-chars"),
    ];
    const acts: string[] = [];
    const messages = bodies.map((body, i) => ({ body, attempts: 1, id: `m${i}`, timestamp: new Date(), ack: () => acts.push(`ack ${i}`), retry: () => acts.push(`retry ${i}`) }));
    await retryForwards({ messages } as unknown as MessageBatch<QueuedForward>, gateway);
    expect(acts).toEqual(["ack 0", "ack 1", "ack 2"]);
    expect(forwards(events)).toEqual(bodies.map(() => expect.objectContaining({ ok: false, status: null, error: QUEUE_MESSAGE_UNREADABLE, attempts: 2, lost: true })));
    expect(events.flatMap(incrementsFor).filter((i) => i.name === "riskgate_resets_lost_total")).toHaveLength(3);
    const log = ((await (await fetch(`${env.ORIGIN_URL}/__demo/received`)).json()) as { received: Received[] }).received;
    expect(log.filter((r) => r.headers?.["x-test-id"] === job.headers[1]?.[1])).toEqual([]);
    // The untouched message opens and is delivered.
    await retryForwards({ messages: [{ ...messages[0], body: sealed }] } as unknown as MessageBatch<QueuedForward>, gateway);
    expect(forwards(events).at(-1)).toMatchObject({ ok: true, lost: false });
  });

  it("respond: origin relays the origin's answer, and a 502 when it is down", async () => {
    const relay = (g: Gateway): Gateway => ({
      ...g,
      ruleset: { ...g.ruleset, spec: { ...g.ruleset.spec, routes: g.ruleset.spec.routes.map((r) => ({ ...r, respond: "origin" as const })) } },
    });
    const up = await send(await gatewayWith({}, relay));
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ status: "reset started" });
    const down = await send(await gatewayWith({ ORIGIN_URL: "http://127.0.0.1:9" }, relay));
    expect(down.status).toBe(502);
  });
});

describe("decision log", () => {
  it("writes one JSON line per request after the response, with no raw identifiers or secrets", async () => {
    const spy = vi.spyOn(console, "log").mockImplementation(() => {});
    const gateway = await gatewayWith({});
    await send(gateway, { authorization: "Bearer top-secret-token" }, "Frank.Secret@Example.com");
    const lines = spy.mock.calls.map((c) => String(c[0])).filter((l) => l.includes("riskgate.decision"));
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? "";
    const parsed = JSON.parse(line) as DecisionLogLine;
    expect(parsed.verdict).toBe("allow");
    expect(parsed.account).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // It is also the log record of the decision's audit event, which follows the
    // isolate's two start-up events (rule set, signing key) in its sequence.
    expect(parsed.event).toMatchObject({ seq: 3, source: gateway.audit.source });
    for (const secret of [/frank/i, /secret@/i, /hunter2/, /top-secret-token/, /192\.0\.2\.44/]) {
      expect(line).not.toMatch(secret);
    }
  });

  it("an allowed reset is one line, and the log alone holds every sequence number the isolate used", async () => {
    const spy = vi.spyOn(console, "log").mockImplementation(() => {});
    const base = await gatewayWith({});
    const delivered: AuditEvent[] = [];
    // The production auditor and sinks; every stamped batch is also kept, to compare.
    const gateway: Gateway = { ...base, audit: { ...base.audit, deliver: (batch) => {
      delivered.push(...batch);
      return base.audit.deliver(batch);
    } } };
    for (const email of ["gap-one@example.com", "gap-two@example.com", "gap-three@example.com"]) expect((await send(gateway, {}, email)).status).toBe(202);
    const lines = spy.mock.calls
      .map((c) => JSON.parse(String(c[0])) as { type: string; event: { source: string; seq: number }; forward?: { seq: number } })
      .filter((l) => l.event?.source === gateway.audit.source);
    expect(lines.filter((l) => l.type === "riskgate.decision")).toHaveLength(3);
    // The forwards are in their decisions' lines, not lines of their own.
    expect(lines.filter((l) => l.type === "riskgate.forward")).toEqual([]);
    expect(lines.filter((l) => l.forward !== undefined)).toHaveLength(delivered.filter((e) => e.type === "forward").length);
    expect(delivered.filter((e) => e.type === "forward")).toHaveLength(3);
    const seqs = lines.flatMap((l) => (l.forward === undefined ? [l.event.seq] : [l.event.seq, l.forward.seq])).sort((a, b) => a - b);
    // 1 and 2 are the isolate's start-up events (rule set, signing key), then every request's events.
    expect(seqs).toEqual(Array.from({ length: 2 + delivered.length }, (_, i) => i + 1));
    expect(findGaps(seqs.map((seq) => ({ source: gateway.audit.source, seq })))).toEqual([]);
  });
});
