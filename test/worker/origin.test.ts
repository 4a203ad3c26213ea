// Forwarding details: key rotation, origin failures and their fail mode, `respond: origin`,
// and the decision log line written after the response.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { DEV_SIGNING_KEY } from "../../src/origin/signing-keys.ts";

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

describe("origin failures", () => {
  it.each([
    ["unreachable", { ORIGIN_URL: "http://127.0.0.1:9" }, {}, "ORIGIN_UNAVAILABLE"],
    ["too slow", {}, { "x-demo-delay-ms": "2000" }, "ORIGIN_TIMEOUT"],
  ])("%s: the client still gets the uniform 202 and the log names the failure", async (_n, envOver, headers, code) => {
    const lines: DecisionLogLine[] = [];
    const gateway = await gatewayWith(envOver, (g) => ({
      ...g,
      ruleset: { ...g.ruleset, originTimeoutMs: 200 },
      log: (line) => lines.push(line),
    }));
    const res = await send(gateway, headers);
    expect(res.status).toBe(202);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.errors).toContainEqual({ dependency: "origin", code, failMode: "allow" });
    expect(lines[0]?.origin_status).toBeNull();
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
});
