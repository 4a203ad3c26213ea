// The app answers a scored route in its plain spelling without Hono's dispatch (src/app.ts);
// that path must answer errors exactly as Hono's onError does, and leave every other path
// (admin area, JWKS, escaped spellings, pass-through) to Hono.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { createGateway } from "../../src/gateway/gateway.ts";
import type { WorkerEnv } from "../../src/gateway/env.ts";
import { ConfigError } from "../../src/shared/errors.ts";
import { BROWSER_UA, call, GATEWAY } from "./support/http.ts";

async function fetchWith(load: () => Promise<never>, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await createApp(load).fetch(new Request(`${GATEWAY}${path}`, init), env as WorkerEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("app dispatch", () => {
  it("answers a scored route's wrong method with 405 and Allow, as before", async () => {
    const gateway = await createGateway(env);
    const res = await call(gateway, "/password/reset", { method: "GET", headers: { "user-agent": BROWSER_UA } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("ERR_METHOD_NOT_ALLOWED");
  });

  it("answers a gateway that cannot load with the same misconfiguration error on every path", async () => {
    const broken = () => Promise.reject(new ConfigError("HMAC_SECRET is missing"));
    for (const path of ["/password/reset", "/v1/outcomes", "/somewhere/else", "/password/%72eset"]) {
      const res = await fetchWith(broken, path, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
      expect(res.status, path).toBe(500);
      expect(await res.json(), path).toEqual({ error: { code: "ERR_CONFIG", message: "gateway misconfigured" } });
    }
  });

  it("still scores an escaped spelling and refuses an ambiguous one (through Hono)", async () => {
    const gateway = await createGateway(env);
    const headers = { "content-type": "application/json", "user-agent": BROWSER_UA, "cf-connecting-ip": "203.0.113.91" };
    const escaped = await call(gateway, "/password/%72eset", { method: "POST", headers, body: JSON.stringify({ email: "dispatch@example.com" }) });
    expect(escaped.status).toBe(202);
    const ambiguous = await call(gateway, "/password%2Freset", { method: "POST", headers, body: JSON.stringify({ email: "dispatch@example.com" }) });
    expect(ambiguous.status).toBe(400);
  });

  it("serves the JWKS and the admin area through Hono", async () => {
    const gateway = await createGateway(env);
    expect((await call(gateway, "/.well-known/jwks.json")).status).toBe(200);
    // The admin API needs auth: refused, not passed through to the origin.
    expect((await call(gateway, "/__riskgate/api/decisions")).status).toBe(401);
  });
});
