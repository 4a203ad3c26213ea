// The decision token is signed with WebCrypto directly; jose verifies it exactly as an
// origin would (signature, algorithm, issuer, audience, lifetime), for both key types.
import { exportJWK, generateKeyPair, jwtVerify, decodeProtectedHeader, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/shared/decision.ts";
import { DECISION_TTL_SECONDS, ISSUER, signDecision } from "../../src/origin/decision-token.ts";
import { loadSigningKeys } from "../../src/origin/signing-keys.ts";

const decision: Decision = {
  id: "dec-1",
  verdict: "allow",
  tier: "low",
  score: 12,
  channel: "email_link",
  channels: ["email_link", "email_otp"],
  reasons: [{ code: "DEVICE_NEW_FOR_ACCOUNT", rule: "device-new", weight: 12 }],
  mode: "live",
  errors: [],
  rulesetVersion: "rules-abc",
  experiment: { id: "exp", arm: "b" },
};

async function keysFor(alg: "ES256" | "EdDSA", kid: string) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
  const jwk = { ...(await exportJWK(privateKey)), kid, alg };
  const keys = await loadSigningKeys(JSON.stringify([jwk]));
  const publicKey = await importJWK(keys.publicJwks[0] ?? {}, alg);
  return { keys, publicKey };
}

describe("decision token", () => {
  it.each(["ES256", "EdDSA"] as const)("verifies with jose as %s, with every claim", async (alg) => {
    const { keys, publicKey } = await keysFor(alg, `k-${alg}`);
    const now = Math.floor(Date.now() / 1000);
    const token = await signDecision(decision, "acct-hash", "https://origin.example", keys, now, { seen: { device: "d" } });
    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: `k-${alg}`, typ: "riskgate-decision+jwt" });
    const { payload } = await jwtVerify(token, publicKey, { issuer: ISSUER, audience: "https://origin.example", algorithms: [alg] });
    expect(payload).toEqual({
      verdict: "allow",
      tier: "low",
      score: 12,
      channel: "email_link",
      channels: ["email_link", "email_otp"],
      reasons: ["DEVICE_NEW_FOR_ACCOUNT"],
      mode: "live",
      acct: "acct-hash",
      rules: "rules-abc",
      experiment: { id: "exp", arm: "b" },
      seen: { device: "d" },
      iss: ISSUER,
      aud: "https://origin.example",
      jti: "dec-1",
      iat: now,
      exp: now + DECISION_TTL_SECONDS,
    });
  });

  it("fails verification under another key, after a changed byte, and once expired", async () => {
    const { keys, publicKey } = await keysFor("ES256", "k1");
    const other = await keysFor("ES256", "k2");
    const now = Math.floor(Date.now() / 1000);
    const token = await signDecision(decision, "acct-hash", "https://origin.example", keys, now);
    await expect(jwtVerify(token, other.publicKey)).rejects.toThrow();
    const [h, p, s] = token.split(".");
    const tampered = `${h}.${p?.slice(0, -2)}${p?.endsWith("A") ? "B" : "A"}${p?.slice(-1)}.${s}`;
    await expect(jwtVerify(tampered, publicKey)).rejects.toThrow();
    const old = await signDecision(decision, "acct-hash", "https://origin.example", keys, now - DECISION_TTL_SECONDS - 5);
    await expect(jwtVerify(old, publicKey)).rejects.toThrow(/exp/);
  });
});
