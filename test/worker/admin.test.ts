// Admin authentication end to end: every /__riskgate/* path refuses a request without
// valid credentials (none, wrong token, expired or foreign Access JWT), production
// without configured auth serves no admin endpoint, and the login form's session works.
import { env } from "cloudflare:test";
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createAdminAuth } from "../../src/admin/auth.ts";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { call } from "./support/http.ts";

const TEAM = "https://acme.cloudflareaccess.com";
const AUD = "riskgate-admin-aud";

/** Every admin path and method; each must refuse without credentials. */
const PATHS: [string, string][] = [
  ["GET", "/__riskgate"],
  ["GET", "/__riskgate/"],
  ["GET", "/__riskgate/assets/main.js"],
  ["GET", "/__riskgate/assets/style.css"],
  ["GET", "/__riskgate/api/summary"],
  ["GET", "/__riskgate/api/decisions"],
  ["GET", "/__riskgate/api/decisions/some-id/events"],
  ["GET", "/__riskgate/api/events/some-id"],
  ["POST", "/__riskgate/api/audit/deliver"],
  ["GET", "/__riskgate/metrics"],
  ["POST", "/__riskgate/logout"],
  ["GET", "/__riskgate/anything/else"],
  ["DELETE", "/__riskgate/api/summary"],
  ["POST", "/__riskgate/login"],
];

let privateKey: CryptoKey;
let jwks: { keys: JWK[] };
let gateway: Gateway;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privateKey = pair.privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256" }] };
  const base = await createGateway(env);
  // Both methods on: the dev token and Access, with a local key set for the team's JWKS.
  gateway = { ...base, admin: await createAdminAuth({ token: DEV_ADMIN_TOKEN, access: { teamOrigin: TEAM, aud: AUD } }, { accessKeys: createLocalJWKSet(jwks) }) };
});

function jwt(claims: { aud?: string; exp?: number } = {}): Promise<string> {
  return new SignJWT({ email: "ops@acme.example" })
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setIssuer(TEAM)
    .setAudience(claims.aud ?? AUD)
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 300)
    .sign(privateKey);
}

const credentials: [string, () => Promise<Record<string, string>>][] = [
  ["no credentials", async () => ({})],
  ["a wrong bearer token", async () => ({ authorization: `Bearer ${DEV_ADMIN_TOKEN}-not` })],
  ["an expired Access JWT", async () => ({ "cf-access-jwt-assertion": await jwt({ exp: Math.floor(Date.now() / 1000) - 120 }) })],
  ["an Access JWT for another audience", async () => ({ "cf-access-jwt-assertion": await jwt({ aud: "someone-else" }) })],
  // Same-origin, so the POSTs get past the cross-site guard to the signature check.
  ["a forged session cookie", async () => ({ cookie: "riskgate_admin=v1.9999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "sec-fetch-site": "same-origin" })],
];

describe("admin endpoints refuse", () => {
  it.each(credentials)("%s on every /__riskgate/* path", async (_name, headers) => {
    const h = await headers();
    for (const [method, path] of PATHS) {
      const res = await call(gateway, path, { method, headers: h });
      expect(res.status, `${method} ${path}`).toBe(401);
      const body = await res.text();
      expect(body, `${method} ${path}`).not.toMatch(/riskgate_decisions_total|"verdict"|import \* as api/);
    }
  });

  it("answers a browser without credentials with the sign-in form and no data", async () => {
    const res = await call(gateway, "/__riskgate/", { headers: { accept: "text/html" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<form method="post" action="/__riskgate/login">');
    expect(html).not.toContain("main.js");
  });
});

describe("admin endpoints accept", () => {
  it.each([
    ["the bearer token", async () => ({ authorization: `Bearer ${DEV_ADMIN_TOKEN}` })],
    ["a valid Access JWT", async () => ({ "cf-access-jwt-assertion": await jwt() })],
  ])("%s", async (_name, headers) => {
    const h = await headers();
    expect((await call(gateway, "/__riskgate/api/summary", { headers: h })).status).toBe(200);
    const page = await call(gateway, "/__riskgate/", { headers: h });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('src="/__riskgate/assets/main.js');
    const metrics = await call(gateway, "/__riskgate/metrics", { headers: h });
    expect(metrics.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect((await call(gateway, "/__riskgate/nope", { headers: h })).status).toBe(404);
  });

  it("the login form exchanges the token for a session cookie scoped to /__riskgate", async () => {
    const form = (token: string) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `token=${encodeURIComponent(token)}` });
    expect((await call(gateway, "/__riskgate/login", form("wrong"))).status).toBe(401);
    const ok = await call(gateway, "/__riskgate/login", form(DEV_ADMIN_TOKEN));
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^riskgate_admin=v1\.\d+\.[\w-]{43}; Path=\/__riskgate; HttpOnly; SameSite=Strict; Max-Age=28800; Secure$/);
    const session = cookie.split(";")[0] ?? "";
    expect((await call(gateway, "/__riskgate/api/decisions", { headers: { cookie: session } })).status).toBe(200);
    // A cross-site form post carrying the cookie is refused.
    const csrf = await call(gateway, "/__riskgate/api/audit/deliver", { method: "POST", headers: { cookie: session, "sec-fetch-site": "cross-site" } });
    expect(csrf.status).toBe(403);
  });
});

describe("production", () => {
  const production = {
    RISKGATE_ENV: "production",
    ACCOUNT_HMAC_SECRET: "p".repeat(40),
    AUDIT_WEBHOOK_URL: "",
    // Production CAPTCHA settings: the provider's own https endpoints and real-shaped keys.
    SITEVERIFY_URL: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    CAPTCHA_SCRIPT_URL: "https://challenges.cloudflare.com/turnstile/v0/api.js",
    TURNSTILE_SITE_KEY: "0x4AAAAAAAprod-site",
    TURNSTILE_SECRET_KEY: "0x4AAAAAAAprod-secret",
  };
  async function prodGateway(extra: Record<string, string>): Promise<Gateway> {
    const { privateKey: key } = await generateKeyPair("ES256", { extractable: true });
    const signing = JSON.stringify([{ ...(await exportJWK(key)), kid: "prod-1", alg: "ES256" }]);
    return createGateway({ ...env, ...production, DECISION_SIGNING_KEYS: signing, ...extra });
  }

  it("without admin auth configured, every admin path is unavailable, even with the dev token", async () => {
    const g = await prodGateway({});
    for (const [method, path] of PATHS) {
      const res = await call(g, path, { method, headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
      expect(res.status, `${method} ${path}`).toBe(503);
    }
  });

  it("refuses to start with a weak admin token", async () => {
    await expect(prodGateway({ ADMIN_TOKEN: DEV_ADMIN_TOKEN })).rejects.toThrow(/ADMIN_TOKEN/);
  });

  it("serves admin with a strong token", async () => {
    const token = "a".repeat(48);
    const g = await prodGateway({ ADMIN_TOKEN: token });
    expect((await call(g, "/__riskgate/api/summary", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await call(g, "/__riskgate/api/summary", { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } })).status).toBe(401);
  });
});
