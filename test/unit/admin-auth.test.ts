// Admin authentication: bearer secret, Cloudflare Access JWT (local key set standing in
// for the team's JWKS), session cookies and their cross-site guard, and configuration.
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createAdminAuth } from "../../src/admin/auth.ts";
import { DEV_ADMIN_TOKEN, readAdminConfig } from "../../src/admin/config.ts";
import { secretsEqual } from "../../src/shared/constant-time.ts";
import { createSessions, SESSION_TTL_SECONDS } from "../../src/admin/session.ts";
import type { Env } from "../../src/shared/env.ts";
import { ConfigError } from "../../src/shared/errors.ts";

const TOKEN = "t".repeat(40);
const TEAM = "https://acme.cloudflareaccess.com";
const AUD = "aud-tag-123";
const NOW = 1_800_000_000;
const URL_ = "https://gw.example/__riskgate/api/summary";

let teamKey: CryptoKey;
let strangerKey: CryptoKey;
let jwks: { keys: JWK[] };

beforeAll(async () => {
  const team = await generateKeyPair("RS256", { extractable: true });
  const stranger = await generateKeyPair("RS256");
  teamKey = team.privateKey;
  strangerKey = stranger.privateKey;
  jwks = { keys: [{ ...(await exportJWK(team.publicKey)), kid: "team-1", alg: "RS256" }] };
});

function accessJwt(options: { key?: CryptoKey; aud?: string; iss?: string; exp?: number } = {}): Promise<string> {
  return new SignJWT({ email: "ops@acme.example" })
    .setProtectedHeader({ alg: "RS256", kid: "team-1" })
    .setIssuer(options.iss ?? TEAM)
    .setAudience(options.aud ?? AUD)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 300)
    .sign(options.key ?? teamKey);
}

function auth(config: { token?: string | null; access?: boolean } = {}) {
  return createAdminAuth(
    { token: config.token === undefined ? TOKEN : config.token, access: config.access === false ? null : { teamOrigin: TEAM, aud: AUD } },
    { accessKeys: createLocalJWKSet(jwks) },
  );
}

const req = (headers: Record<string, string>, method = "GET") => new Request(URL_, { method, headers });

describe("bearer and Access", () => {
  it.each([
    ["the right token", async () => ({ authorization: `Bearer ${TOKEN}` }), { ok: true, method: "bearer" }],
    ["a wrong token", async () => ({ authorization: `Bearer ${TOKEN}x` }), { ok: false, code: "BAD_TOKEN" }],
    ["a token prefix", async () => ({ authorization: `Bearer ${TOKEN.slice(0, 10)}` }), { ok: false, code: "BAD_TOKEN" }],
    ["another scheme", async () => ({ authorization: `Basic ${btoa(`admin:${TOKEN}`)}` }), { ok: false, code: "BAD_TOKEN" }],
    ["nothing", async () => ({}), { ok: false, code: "MISSING_CREDENTIALS" }],
    ["a valid Access JWT", async () => ({ "cf-access-jwt-assertion": await accessJwt() }), { ok: true, method: "access" }],
    ["an expired Access JWT", async () => ({ "cf-access-jwt-assertion": await accessJwt({ exp: Math.floor(Date.now() / 1000) - 600 }) }), { ok: false, code: "ACCESS_JWT_EXPIRED" }],
    ["an Access JWT for another application", async () => ({ "cf-access-jwt-assertion": await accessJwt({ aud: "other-app" }) }), { ok: false, code: "ACCESS_JWT_INVALID" }],
    ["an Access JWT from another team", async () => ({ "cf-access-jwt-assertion": await accessJwt({ iss: "https://evil.cloudflareaccess.com" }) }), { ok: false, code: "ACCESS_JWT_INVALID" }],
    ["an Access JWT signed by a stranger", async () => ({ "cf-access-jwt-assertion": await accessJwt({ key: strangerKey }) }), { ok: false, code: "ACCESS_JWT_INVALID" }],
    ["the Access cookie", async () => ({ cookie: `CF_Authorization=${await accessJwt()}` }), { ok: true, method: "access" }],
    ["garbage as a JWT", async () => ({ "cf-access-jwt-assertion": "not.a.jwt" }), { ok: false, code: "ACCESS_JWT_INVALID" }],
  ])("%s", async (_name, headers, expected) => {
    const result = await (await auth()).authenticate(req(await headers()), NOW);
    expect(result).toEqual(expected);
  });

  it("an Access JWT is refused when only the bearer method is configured", async () => {
    const a = await auth({ access: false });
    expect(await a.authenticate(req({ "cf-access-jwt-assertion": await accessJwt() }), NOW)).toEqual({ ok: false, code: "ACCESS_JWT_INVALID" });
  });

  it("with neither method configured, everything is refused as disabled", async () => {
    const a = await auth({ token: null, access: false });
    expect(a.enabled).toBe(false);
    expect(await a.authenticate(req({ authorization: `Bearer ${TOKEN}` }), NOW)).toEqual({ ok: false, code: "ADMIN_DISABLED" });
  });
});

describe("sessions", () => {
  it("a login with the token issues a cookie that authenticates until it expires", async () => {
    const a = await auth();
    expect(await a.login("wrong", NOW)).toBeNull();
    const session = (await a.login(TOKEN, NOW)) ?? "";
    expect(await a.authenticate(req({ cookie: `riskgate_admin=${session}` }), NOW + 60)).toEqual({ ok: true, method: "session" });
    expect(await a.authenticate(req({ cookie: `riskgate_admin=${session}` }), NOW + SESSION_TTL_SECONDS + 1)).toEqual({ ok: false, code: "BAD_SESSION" });
  });

  it.each([
    ["a tampered expiry", (v: string) => v.replace(/^v1\.(\d+)/, (_m, exp: string) => `v1.${Number(exp) + 9999}`)],
    ["a truncated MAC", (v: string) => v.slice(0, -1)],
    ["a session from another token", async () => (await createSessions("other-token")).issue(NOW)],
  ])("refuses %s", async (_name, mutate) => {
    const session = (await (await auth()).login(TOKEN, NOW)) ?? "";
    const value = await mutate(session);
    expect(await (await auth()).authenticate(req({ cookie: `riskgate_admin=${value}` }), NOW)).toEqual({ ok: false, code: "BAD_SESSION" });
  });

  it.each([
    ["same-origin fetch", { "sec-fetch-site": "same-origin" }, true],
    ["cross-site form", { "sec-fetch-site": "cross-site" }, false],
    ["matching Origin, no fetch metadata", { origin: "https://gw.example" }, true],
    ["foreign Origin", { origin: "https://evil.example" }, false],
    ["no browser signal at all", {}, false],
  ])("cookie on POST with %s: allowed=%s", async (_name, headers, allowed) => {
    const a = await auth();
    const session = (await a.login(TOKEN, NOW)) ?? "";
    const result = await a.authenticate(req({ cookie: `riskgate_admin=${session}`, ...headers }, "POST"), NOW);
    expect(result.ok).toBe(allowed);
    if (!allowed) expect(result).toEqual({ ok: false, code: "CROSS_SITE" });
  });
});

describe("secretsEqual", () => {
  it.each([
    ["same", "abc", "abc", true],
    ["different", "abc", "abd", false],
    ["prefix", "ab", "abc", false],
    ["empty vs something", "", "abc", false],
  ])("%s", async (_name, a, b, equal) => {
    expect(await secretsEqual(a, b)).toBe(equal);
  });
});

describe("readAdminConfig", () => {
  const env = (vars: Record<string, string>) => vars as unknown as Env;
  it("development falls back to the documented dev token", () => {
    expect(readAdminConfig(env({ RISKGATE_ENV: "development" }))).toEqual({ token: DEV_ADMIN_TOKEN, access: null });
  });
  it("production without anything configured disables admin instead of guessing", () => {
    expect(readAdminConfig(env({}))).toEqual({ token: null, access: null });
  });
  it("normalises the Access team domain to its https origin", () => {
    expect(readAdminConfig(env({ ACCESS_TEAM_DOMAIN: "acme.cloudflareaccess.com", ACCESS_AUD: AUD })).access).toEqual({ teamOrigin: TEAM, aud: AUD });
  });
  it.each([
    ["a short token", { ADMIN_TOKEN: "short" }, /at least 32/],
    ["the dev token", { ADMIN_TOKEN: DEV_ADMIN_TOKEN }, /development token/],
    ["Access without AUD", { ACCESS_TEAM_DOMAIN: "acme.cloudflareaccess.com" }, /set together/],
    ["Access over http", { ACCESS_TEAM_DOMAIN: "http://acme.cloudflareaccess.com", ACCESS_AUD: AUD }, /https/],
  ])("production refuses %s", (_name, vars, message) => {
    expect(() => readAdminConfig(env(vars))).toThrow(ConfigError);
    expect(() => readAdminConfig(env(vars))).toThrow(message);
  });
});
