// The riskgate command as a user runs it (node bin/riskgate.mjs): --help, --version and
// `keys generate`, whose keys the gateway's own parsers must accept and whose decision
// signature must verify against the JWKS the gateway would publish.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createLocalJWKSet, type JWK, jwtVerify, SignJWT, importJWK } from "jose";
import { describe, expect, it, vi } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import { DEV_ADMIN_TOKEN as CLI_DEV_ADMIN_TOKEN, defaultGatewayUrl } from "../../src/cli/experiments.ts";
import { generateKeys } from "../../src/cli/keys.ts";
import { usageFor } from "../../src/cli/main.ts";
import type { Decision } from "../../src/shared/decision.ts";
import { ISSUER, signDecision } from "../../src/origin/decision-token.ts";
import { loadSigningKeys } from "../../src/origin/signing-keys.ts";
import { loadOutcomeKeys } from "../../src/outcomes/keys.ts";
import { OUTCOME_AUDIENCE, OUTCOME_TYP } from "../../src/outcomes/verify.ts";

// Each spawn starts tsx: seconds on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

function riskgate(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/riskgate.mjs", ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const decision: Decision = {
  id: "dec-1",
  verdict: "allow",
  tier: "low",
  score: 3,
  channel: "email_link",
  channels: ["email_link"],
  reasons: [],
  mode: "live",
  errors: [],
  rulesetVersion: "rules-abc",
};

describe("riskgate --help and --version", () => {
  it("--help, -h and help print the usage on stdout and exit 0", () => {
    for (const flag of ["--help", "-h"]) {
      const r = riskgate(flag);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^usage: riskgate <command>/);
      expect(r.out).toContain("keys generate");
      expect(r.err).toBe("");
    }
  });

  it("<command> --help prints that command's usage, even beside a bad flag", () => {
    const r = riskgate("rules", "check", "--nonsense", "--help");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("usage:\n  rules check   [--dir d] [--candidate c]          validate rule files (and the candidate)\n");
    expect(usageFor(["experiments"])).toContain("experiments report <id>");
    expect(usageFor(["lists", "update"])).toContain("--only");
    expect(usageFor(["nonsense"])).toMatch(/^usage: riskgate/);
  });

  it("--version prints package.json's version", () => {
    const r = riskgate("--version");
    expect(r.code).toBe(0);
    expect(r.out).toBe(`riskgate ${JSON.parse(readFileSync("package.json", "utf8")).version}\n`);
  });

  it("an unknown option is still a usage error (exit 2)", () => {
    const r = riskgate("rules", "check", "--nonsense");
    expect(r.code).toBe(2);
    expect(r.err).toContain("Unknown option '--nonsense'");
  });
});

describe("experiments report defaults", () => {
  it("follows PORT and knows the development token", () => {
    expect(CLI_DEV_ADMIN_TOKEN).toBe(DEV_ADMIN_TOKEN);
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    expect(defaultGatewayUrl(env({}))).toBe("http://127.0.0.1:8787");
    expect(defaultGatewayUrl(env({ PORT: "18787" }))).toBe("http://127.0.0.1:18787");
    expect(defaultGatewayUrl(env({ PORT: "18787", RISKGATE_URL: "https://gw.example" }))).toBe("https://gw.example");
  });
});

describe("riskgate keys generate", () => {
  it("prints keys the gateway accepts; a decision signed with them verifies", async () => {
    const r = riskgate("keys", "generate", "--json");
    expect(r.code, r.err).toBe(0);
    const printed = JSON.parse(r.out) as { DECISION_SIGNING_KEYS: JWK[]; OUTCOME_VERIFY_KEYS: { keys: JWK[] }; origin_outcome_signing_key: JWK };
    const signing = await loadSigningKeys(JSON.stringify(printed.DECISION_SIGNING_KEYS));
    expect(signing.current.alg).toBe("ES256");
    expect(signing.current.kid).toMatch(/^riskgate-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/);
    expect(signing.publicJwks[0]?.d).toBeUndefined();
    const token = await signDecision(decision, "acct", "https://origin.example", signing, Math.floor(Date.now() / 1000));
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...signing.publicJwks] }), { issuer: ISSUER, audience: "https://origin.example" });
    expect(payload.verdict).toBe("allow");
    // Production refuses no part of it (the dev key check), and the public half has no `d`.
    expect(printed.OUTCOME_VERIFY_KEYS.keys[0]?.d).toBeUndefined();
    expect(loadOutcomeKeys(JSON.stringify(printed.OUTCOME_VERIFY_KEYS), false)?.kids).toEqual([printed.origin_outcome_signing_key.kid]);
  });

  it.each(["ES256", "EdDSA"] as const)("%s: an outcome signed with the origin key verifies with OUTCOME_VERIFY_KEYS", async (alg) => {
    const keys = await generateKeys(alg, new Date("2027-01-02T00:00:00Z"), "acme");
    const origin = keys.originSigningKey;
    expect(origin.kid).toMatch(/^acme-origin-2027-01-02-/);
    const verify = loadOutcomeKeys(JSON.stringify(keys.outcomeVerifyKeys), false);
    if (verify === null) throw new Error("no keys");
    const report = await new SignJWT({ event: "verified" })
      .setProtectedHeader({ alg, kid: origin.kid ?? "", typ: OUTCOME_TYP })
      .setAudience(OUTCOME_AUDIENCE)
      .setIssuedAt()
      .sign(await importJWK(origin, alg));
    const { payload } = await jwtVerify(report, verify.keySet, { audience: OUTCOME_AUDIENCE, typ: OUTCOME_TYP });
    expect(payload.event).toBe("verified");
    // And the decision key of the same run signs for the gateway.
    const signing = await loadSigningKeys(JSON.stringify(keys.decisionSigningKeys));
    expect(signing.current.alg).toBe(alg);
  });

  it("the text output carries both values, ready to paste", () => {
    const r = riskgate("keys", "generate", "--alg", "EdDSA");
    expect(r.code, r.err).toBe(0);
    const values = r.out.split("\n").filter((l) => l.startsWith("[") || l.startsWith("{"));
    expect(values).toHaveLength(3);
    expect(JSON.parse(values[0] ?? "")[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    expect(riskgate("keys", "generate", "--alg", "RS256").code).toBe(2);
  });
});
