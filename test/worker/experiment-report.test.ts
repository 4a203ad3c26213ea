// GET /__riskgate/experiments[/<id>] inside workerd: nothing is reachable without admin
// credentials (bearer secret or Cloudflare Access JWT, checked by src/admin/auth.ts), and
// with them the report is built from the real store's tallies, as JSON or as the page.
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createAdminAuth } from "../../src/admin/auth.ts";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import type { ExperimentReport } from "../../src/scoring/experiments/report.ts";
import { experimentHarness, type ExperimentHarness, lowTierExperiment, reportOutcome, reset } from "./experiments-harness.ts";
import { call } from "./support/http.ts";

const TEAM = "https://acme.cloudflareaccess.com";
const AUD = "riskgate-admin-aud";
const ID = `report-${crypto.randomUUID().slice(0, 8)}`;

let h: ExperimentHarness;
let privateKey: CryptoKey;

function accessJwt(claims: { aud?: string; exp?: number } = {}): Promise<string> {
  return new SignJWT({ email: "growth@acme.example" })
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setIssuer(TEAM)
    .setAudience(claims.aud ?? AUD)
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 300)
    .sign(privateKey);
}

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privateKey = pair.privateKey;
  const jwks: { keys: JWK[] } = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256" }] };
  h = await experimentHarness(lowTierExperiment(ID, { holdout: 0.2 }));
  const admin = await createAdminAuth({ token: DEV_ADMIN_TOKEN, access: { teamOrigin: TEAM, aud: AUD } }, { accessKeys: createLocalJWKSet(jwks) });
  Object.assign(h, { gateway: { ...h.gateway, admin } });
  await reset(h, "warm@example.com");
  for (let i = 0; i < 60; i++) {
    h.clock.now += 60_000;
    await reset(h, `r${i}@example.com`);
  }
  expect(h.forwarded).toHaveLength(61);
  for (const [i, f] of h.forwarded.entries()) {
    if (f.claims.experiment === undefined) continue;
    // Every report is counted: a refused one would show up later as a puzzling count.
    for (const event of ["sent", i % 3 === 0 ? "abandoned" : "completed"]) {
      const res = await reportOutcome(h, f, event);
      expect(res.status, `${event} for decision ${i}`).toBe(200);
      expect(await res.json()).toMatchObject({ experiment: { counted: true } });
    }
  }
});

const PATHS = [`/__riskgate/experiments`, `/__riskgate/experiments/${ID}`, `/__riskgate/experiments/${ID}?format=json`, `/__riskgate/experiments/${ID}?format=html`, "/__riskgate/experiments/no-such-one"];

describe("experiment reports require admin credentials", () => {
  const refused: [string, () => Promise<Record<string, string>>][] = [
    ["no credentials", async () => ({})],
    ["a wrong bearer token", async () => ({ authorization: `Bearer ${DEV_ADMIN_TOKEN}x` })],
    ["a bearer token of the right length but wrong", async () => ({ authorization: `Bearer ${"x".repeat(DEV_ADMIN_TOKEN.length)}` })],
    ["an expired Access JWT", async () => ({ "cf-access-jwt-assertion": await accessJwt({ exp: Math.floor(Date.now() / 1000) - 120 }) })],
    ["an Access JWT for another application", async () => ({ "cf-access-jwt-assertion": await accessJwt({ aud: "other-app" }) })],
  ];

  it.each(refused)("%s: 401 on every experiments path, with no report data", async (_name, headers) => {
    const hs = await headers();
    for (const path of PATHS) {
      for (const accept of ["application/json", "text/html"]) {
        const res = await call(h.gateway, path, { headers: { ...hs, accept } });
        expect(res.status, `${path} ${accept}`).toBe(401);
        expect(await res.text(), path).not.toMatch(/costPerCompletion|per completed reset|chart-cost|"arms"/);
      }
    }
  });

  it.each([
    ["the bearer secret", async () => ({ authorization: `Bearer ${DEV_ADMIN_TOKEN}` })],
    ["a Cloudflare Access JWT", async () => ({ "cf-access-jwt-assertion": await accessJwt() })],
  ])("%s opens the report", async (_name, headers) => {
    const res = await call(h.gateway, `/__riskgate/experiments/${ID}`, { headers: { ...(await headers()), accept: "application/json" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const report = (await res.json()) as ExperimentReport;
    expect(report.id).toBe(ID);
  });
});

describe("the report", () => {
  const bearer = { authorization: `Bearer ${DEV_ADMIN_TOKEN}` };

  it("counts what went through the gateway and the outcomes endpoint", async () => {
    const res = await call(h.gateway, `/__riskgate/experiments/${ID}?format=json`, { headers: bearer });
    const report = (await res.json()) as ExperimentReport;
    const enrolled = h.forwarded.filter((f) => f.claims.experiment !== undefined);
    const byArm = (arm: string) => enrolled.filter((f) => (f.claims.experiment as { arm: string }).arm === arm).length;
    for (const arm of ["link", "otp", "holdout"]) {
      const a = report.arms.find((x) => x.arm === arm);
      expect(a?.exposures, arm).toBe(byArm(arm));
      expect(a?.sends, arm).toBe(byArm(arm));
      expect((a?.completions ?? 0) + (a?.abandonments ?? 0), arm).toBe(byArm(arm));
      expect(a?.cost).toBeCloseTo(byArm(arm) * 0.0001, 10);
    }
    expect(report.arms.map((a) => a.rank).filter((r) => r !== null).sort()).toEqual([1, 2, 3]);
    expect(report.verdict.headline).toMatch(/is ahead: /);
    expect(report.series.map((s) => s.arm).sort()).toEqual(["holdout", "link", "otp"]);
  });

  it("is an HTML page with inline SVG charts for browsers, locked down by its CSP", async () => {
    const res = await call(h.gateway, `/__riskgate/experiments/${ID}`, { headers: { ...bearer, accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    for (const id of ["chart-cost", "chart-completion", "chart-fraud", "chart-exposures", "verdict"]) expect(html).toContain(`data-testid="${id}"`);
  });

  it("lists the rule set's experiments, and 404s an unknown one", async () => {
    const list = await call(h.gateway, "/__riskgate/experiments", { headers: bearer });
    expect(await list.json()).toMatchObject({ experiments: [{ id: ID, tier: "low", status: "running", holdout: 0.2 }] });
    const missing = await call(h.gateway, "/__riskgate/experiments/no-such-one", { headers: bearer });
    expect(missing.status).toBe(404);
  });
});
