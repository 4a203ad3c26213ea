// POST /v1/outcomes inside workerd: signed by the origin (jose), echoing the decision,
// idempotent, and clear about every way a report can be wrong.
import { env } from "cloudflare:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import type { WorkerEnv as Env } from "../../src/gateway/env.ts";
import { DEV_SIGNING_KEY } from "../../src/origin/signing-keys.ts";
import { DurableObjectStore } from "../../src/store/durable-object-store.ts";
import { OUTCOME_TALLY } from "../../src/outcomes/index.ts";
import { deviceOf, postOutcome, type Received, report, reset, signOutcome } from "./helpers.ts";
import { TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";

async function forwarded(email: string): Promise<Received> {
  const { origin } = await reset(email, { "cf-connecting-ip": "80.128.0.1" });
  if (origin === null) throw new Error("not forwarded");
  return origin;
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

const token = (o: Received) => o.headers?.["riskgate-decision"] ?? "";

describe("POST /v1/outcomes", () => {
  it("is idempotent: the same event id is counted once, and history holds it once", async () => {
    const origin = await forwarded("idem@example.com");
    const eventId = crypto.randomUUID();
    const store = new DurableObjectStore({ namespace: (env as unknown as Env).RISKGATE_STORE, timeoutMs: TEST_STORE_TIMEOUT_MS });
    const reports = async () =>
      (await store.readTallies(OUTCOME_TALLY)).find((r) => r.arm === "completed" && r.counter === "reports" && r.day === null)?.value ?? 0;
    const before = await reports();
    const a = await report(origin, "completed", eventId);
    const b = await report(origin, "completed", eventId);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await a.json()).toMatchObject({ learned: true, duplicate: false });
    expect(await b.json()).toMatchObject({ learned: true, duplicate: true });
    expect(await reports()).toBe(before + 1);
    const { history } = await store.observe({ now: Date.now(), hits: [], distinct: [], historyKey: `h:${origin.claims?.acct}` });
    expect(history?.countries).toEqual(["DE"]);
    expect(history?.devices).toEqual([deviceOf(origin)]);
    // The store holds hashes only: no raw event id, IP or email.
    expect(JSON.stringify(history)).not.toContain(eventId);
    expect(JSON.stringify(history)).not.toContain("idem@");
  });

  it("rejects a report signed with a key not in OUTCOME_VERIFY_KEYS (401)", async () => {
    const origin = await forwarded("badsig@example.com");
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const rogue = { ...(await exportJWK(privateKey)), kid: "dev-origin-2026-1", alg: "ES256" };
    const body = await signOutcome({ jti: "e1", event: "verified", decision_id: origin.claims?.jti, decision: token(origin) }, { key: rogue });
    const res = await postOutcome(body);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("ERR_OUTCOME_SIGNATURE");
  });

  it.each([
    ["a wrong typ", { typ: "JWT" }],
    ["a wrong audience", { aud: "someone-else" }],
    ["a stale report", { iat: Math.floor(Date.now() / 1000) - 3600 }],
  ])("rejects %s (401)", async (_name, options) => {
    const origin = await forwarded("claims@example.com");
    const body = await signOutcome({ jti: "e2", event: "verified", decision_id: origin.claims?.jti, decision: token(origin) }, options);
    expect(await errorCode(await postOutcome(body))).toBe("ERR_OUTCOME_SIGNATURE");
  });

  it("rejects a decision this gateway never issued (422)", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await new SignJWT({ acct: "x".repeat(22), seen: { dev: "y".repeat(22) } })
      .setProtectedHeader({ alg: "ES256", kid: DEV_SIGNING_KEY.kid ?? "", typ: "riskgate-decision+jwt" })
      .setIssuer("riskgate")
      .setAudience(env.ORIGIN_URL)
      .setJti("forged-decision")
      .setIssuedAt()
      .sign(privateKey);
    const res = await postOutcome(await signOutcome({ jti: "e3", event: "verified", decision_id: "forged-decision", decision: forged }));
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe("ERR_DECISION_UNKNOWN");
  });

  it("rejects a decision id that is not the echoed decision's (422)", async () => {
    const origin = await forwarded("mismatch@example.com");
    const res = await postOutcome(await signOutcome({ jti: "e4", event: "verified", decision_id: crypto.randomUUID(), decision: token(origin) }));
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/does not match/);
  });

  it.each([
    ["an unknown event", { event: "hacked" }, "ERR_OUTCOME_INVALID"],
    ["no decision token", { decision: undefined }, "ERR_OUTCOME_INVALID"],
  ])("rejects %s (400)", async (_name, patch, code) => {
    const origin = await forwarded("invalid@example.com");
    const body = await signOutcome({ jti: "e5", event: "verified", decision_id: origin.claims?.jti, decision: token(origin), ...patch });
    const res = await postOutcome(body);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe(code);
  });

  it.each([
    ["not a JWS", "hello", "application/jwt", 400, "ERR_OUTCOME_INVALID"],
    ["JSON instead of a JWS", "{}", "application/json", 415, "ERR_UNSUPPORTED_MEDIA_TYPE"],
    ["an oversized body", "a".repeat(20_000), "application/jwt", 413, "ERR_BODY_TOO_LARGE"],
  ])("answers %s with a clear error", async (_name, body, type, status, code) => {
    const res = await postOutcome(body, type);
    expect(res.status).toBe(status);
    expect(await errorCode(res)).toBe(code);
  });
});
