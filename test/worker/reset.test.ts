// The whole request path inside workerd: context → signals (Durable Object store) →
// rules → policy → signed forward to the real demo origin.
import { exports } from "cloudflare:workers";
import { env } from "cloudflare:test";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { forwardOf } from "./helpers.ts";

const GATEWAY = "https://gateway.test";
const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

/** A reset through the Worker; a 202's forward runs after the response, so this waits for it. */
async function reset(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const id = crypto.randomUUID();
  const res = await exports.default.fetch(`${GATEWAY}/password/reset`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": BROWSER_UA, "cf-connecting-ip": "203.0.113.7", "x-test-id": id, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  if (res.status === 202) await forwardOf(id);
  return res;
}

interface Received {
  path: string;
  accepted: boolean;
  claims?: Record<string, unknown>;
  headers?: Record<string, string>;
  error?: string;
}

async function originLog(): Promise<Received[]> {
  const res = await fetch(`${env.ORIGIN_URL}/__demo/received`);
  return ((await res.json()) as { received: Received[] }).received;
}

/** The origin's view of the last request whose decision names `jti`. */
async function lastAccepted(): Promise<Received> {
  const log = await originLog();
  const last = log.filter((r) => r.accepted).at(-1);
  if (last === undefined) throw new Error("origin accepted nothing");
  return last;
}

describe("reset route", () => {
  it("answers 202 and the origin receives a decision that verifies against the JWKS", async () => {
    const res = await reset({ email: "  Alice@Example.com " });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      status: "accepted",
      message: "If an account matches, password reset instructions are on their way.",
    });
    const jwks = (await (await exports.default.fetch(`${GATEWAY}/.well-known/jwks.json`)).json()) as {
      keys: object[];
    };
    expect(jwks.keys.length).toBeGreaterThan(0);
    const received = await lastAccepted();
    const token = received.headers?.["riskgate-decision"] ?? "";
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
      issuer: "riskgate",
      audience: env.ORIGIN_URL,
    });
    expect(protectedHeader.kid).toBe("dev-2026-1");
    expect(payload.verdict).toBe("allow");
    expect(typeof payload.jti).toBe("string");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(60);
    // The raw identifier never reaches the origin's claims.
    expect(JSON.stringify(payload)).not.toMatch(/alice/i);
  });

  it("normalises the identifier: case, spaces and NFKC variants share one account key", async () => {
    await reset({ email: "bob@example.com" });
    const a = (await lastAccepted()).claims?.acct;
    await reset({ email: " BOB@EXAMPLE.COM" });
    const b = (await lastAccepted()).claims?.acct;
    await reset({ email: "ｂｏｂ@example.com" }); // full-width letters fold under NFKC
    const c = (await lastAccepted()).claims?.acct;
    expect(a).toBeTypeOf("string");
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it("strips client-sent Riskgate-* and IP headers before forwarding", async () => {
    const res = await reset(
      { email: "carol@example.com" },
      { "riskgate-decision": "forged.token.value", "riskgate-extra": "x", "x-forwarded-for": "1.2.3.4", "true-client-ip": "5.6.7.8" },
    );
    expect(res.status).toBe(202);
    const received = await lastAccepted();
    expect(received.headers?.["riskgate-decision"]).not.toBe("forged.token.value");
    expect(received.headers?.["riskgate-extra"]).toBeUndefined();
    // The one X-Forwarded-For the origin gets is the platform's client IP, set by riskgate.
    expect(received.headers?.["x-forwarded-for"]).toBe("203.0.113.7");
    expect(received.headers?.["true-client-ip"]).toBeUndefined();
  });

  it("keys velocity on the platform IP, never on X-Forwarded-For", async () => {
    let reasons: unknown = [];
    for (let i = 0; i < 10; i++) {
      // A fresh XFF each time: if XFF were trusted, these would be ten different IPs.
      // A different browser each time, so only the IP ties the requests together.
      await reset(
        { email: `user${i}@enum.example` },
        { "cf-connecting-ip": "198.51.100.9", "x-forwarded-for": `10.0.0.${i}`, "user-agent": `${BROWSER_UA} r/${i}` },
      );
      reasons = (await lastAccepted()).claims?.reasons;
    }
    expect(reasons).toContain("DISTINCT_ACCOUNTS_PER_IP");
  });

  it("a forged Riskgate-Decision on a pass-through path never reaches the origin as valid", async () => {
    const before = (await originLog()).length;
    const res = await exports.default.fetch(`${GATEWAY}/account/settings`, {
      headers: { "riskgate-decision": "forged" },
    });
    expect(res.status).toBe(401); // the demo origin rejects: no decision was attached
    const after = await originLog();
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)?.error).toBe("missing Riskgate-Decision");
  });

  it.each(["/password/res%65t", "/password/r%65set", "/PASSWORD/Reset", "/password/reset/", "//password//reset"])(
    "another spelling of the reset path (%s) is scored, not passed through unscored",
    async (path) => {
      const before = (await originLog()).length;
      const res = await exports.default.fetch(`${GATEWAY}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": BROWSER_UA, "cf-connecting-ip": "203.0.113.7" },
        body: "{}",
      });
      // The reset route's own validation answered: the request never reached the origin bare.
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("ERR_IDENTIFIER_MISSING");
      expect((await originLog()).length).toBe(before);
    },
  );

  it.each([
    ["oversized body", { "content-type": "application/json" }, JSON.stringify({ email: "a@b.c", pad: "x".repeat(9000) }), 413, "ERR_BODY_TOO_LARGE"],
    ["malformed JSON", { "content-type": "application/json" }, "{email:", 400, "ERR_BODY_MALFORMED"],
    ["JSON that is not an object", { "content-type": "application/json" }, "[1,2]", 400, "ERR_BODY_MALFORMED"],
    ["missing identifier", { "content-type": "application/json" }, "{}", 400, "ERR_IDENTIFIER_MISSING"],
    ["empty identifier", { "content-type": "application/json" }, '{"email":"   "}', 400, "ERR_IDENTIFIER_MISSING"],
    ["identifier not a string", { "content-type": "application/json" }, '{"email":42}', 400, "ERR_IDENTIFIER_MISSING"],
    ["wrong content type", { "content-type": "text/plain" }, "email=a@b.c", 415, "ERR_UNSUPPORTED_MEDIA_TYPE"],
  ])("%s gets a clear %i, never a 500", async (_name, headers, body, status, code) => {
    const res = await exports.default.fetch(`${GATEWAY}/password/reset`, { method: "POST", headers, body });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it("accepts a form body", async () => {
    const res = await exports.default.fetch(`${GATEWAY}/password/reset`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": BROWSER_UA },
      body: "email=dave%40example.com",
    });
    expect(res.status).toBe(202);
  });

  it("wrong method on the reset route is a 405 with Allow", async () => {
    const res = await exports.default.fetch(`${GATEWAY}/password/reset`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });
});
