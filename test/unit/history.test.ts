import { describe, expect, it } from "vitest";
import { accountFacts } from "../../src/scoring/signals/account.ts";
import { parseSeen } from "../../src/outcomes/claims.ts";
import { DEV_OUTCOME_SIGNING_KEY, loadOutcomeKeys } from "../../src/outcomes/keys.ts";
import type { AccountHistory } from "../../src/store/port.ts";

const EMPTY: AccountHistory = { devices: [], countries: [], asns: [], lastVerified: null, privileged: false };

describe("account facts", () => {
  it.each([
    ["no history", null, { has_history: false, privileged: false, known_devices: 0, hours_since_verified: -1 }],
    ["two devices, verified two hours ago", { ...EMPTY, devices: ["a", "b"], countries: ["DE"], lastVerified: { lat: 0, lon: 0, at: 0 } }, { has_history: true, privileged: false, known_devices: 2, known_countries: 1, hours_since_verified: 2 }],
    // The tag is the origin's statement, not a verified reset: it is not history.
    ["only the origin's privileged tag", { ...EMPTY, privileged: true }, { has_history: false, privileged: true, known_devices: 0, hours_since_verified: -1 }],
    ["history and the tag", { ...EMPTY, asns: [3320], privileged: true }, { has_history: true, privileged: true, known_devices: 0 }],
  ])("%s", (_name, hist, expected) => {
    expect(accountFacts(hist, 7_200_000)).toMatchObject(expected);
  });
});

describe("outcome claims and keys", () => {
  it.each([
    [{ dev: "a".repeat(22), cc: "DE", asn: 3320, loc: [51.4, 10.3] }, { dev: "a".repeat(22), cc: "DE", asn: 3320, loc: [51.4, 10.3] }],
    [{ dev: "a".repeat(22), cc: "germany", asn: -1, loc: [1] }, { dev: "a".repeat(22) }],
    [{ dev: "short" }, null],
    ["string", null],
    [null, null],
  ])("parses the seen claim %j", (value, expected) => {
    expect(parseSeen(value)).toEqual(expected);
  });

  it("uses the development key only in development", () => {
    expect(loadOutcomeKeys(undefined, true)?.kids).toEqual(["dev-origin-2026-1"]);
    expect(loadOutcomeKeys(undefined, false)).toBeNull();
  });

  const { d: _d, ...devPublic } = DEV_OUTCOME_SIGNING_KEY;
  it.each([
    ["not JSON", "{", /not valid JSON/],
    ["an empty array", "[]", /non-empty/],
    ["a private key", JSON.stringify([DEV_OUTCOME_SIGNING_KEY]), /private key/],
    ["a key without kid", JSON.stringify([{ ...devPublic, kid: undefined }]), /no kid/],
    ["an RSA key", JSON.stringify([{ ...devPublic, alg: "RS256" }]), /ES256 or EdDSA/],
    ["the development key in production", JSON.stringify({ keys: [devPublic] }), /development key/],
  ])("rejects %s once, at start-up", (_name, raw, message) => {
    expect(() => loadOutcomeKeys(raw, false)).toThrow(message);
  });

  it("accepts a JWKS or an array of public keys", () => {
    const key = { ...devPublic, x: "different-x", kid: "origin-1" };
    expect(loadOutcomeKeys(JSON.stringify({ keys: [key] }), false)?.kids).toEqual(["origin-1"]);
    expect(loadOutcomeKeys(JSON.stringify([key]), false)?.kids).toEqual(["origin-1"]);
  });
});

describe("the demo origin", () => {
  it("signs outcomes with the same development key the gateway trusts by default", async () => {
    const { DEV_OUTCOME_KEY } = await import("../../tools/demo-origin.mjs");
    expect(DEV_OUTCOME_KEY).toEqual(DEV_OUTCOME_SIGNING_KEY);
  });
});
