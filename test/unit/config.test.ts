import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/gateway/config.ts";
import type { Env } from "../../src/shared/env.ts";
import { ConfigError } from "../../src/shared/errors.ts";
import { DEV_SIGNING_KEY, loadSigningKeys } from "../../src/origin/signing-keys.ts";

const base = { ORIGIN_URL: "https://origin.example", RISKGATE_STORE: {} } as unknown as Env;
const strongSecret = "s".repeat(40);
const prodKey = JSON.stringify([{ ...DEV_SIGNING_KEY, d: "AAAA", kid: "prod-1" }]);

describe("readConfig", () => {
  it("uses documented dev defaults only in development", () => {
    const config = readConfig({ ...base, RISKGATE_ENV: "development" });
    expect(config.development).toBe(true);
    expect(config.hmacSecret).toBe("riskgate-development-only-secret");
  });

  it("leaves the store timeout to the rule file unless STORE_TIMEOUT_MS is set", () => {
    expect(readConfig({ ...base, RISKGATE_ENV: "development" }).storeTimeoutMs).toBeNull();
    expect(readConfig({ ...base, RISKGATE_ENV: "development", STORE_TIMEOUT_MS: "" }).storeTimeoutMs).toBeNull();
    expect(readConfig({ ...base, RISKGATE_ENV: "development", STORE_TIMEOUT_MS: " 2500 " }).storeTimeoutMs).toBe(2500);
  });

  it("answers the reset route at a 250 ms floor unless RESET_RESPONSE_FLOOR_MS says otherwise (0: off)", () => {
    expect(readConfig({ ...base, RISKGATE_ENV: "development" }).resetResponseFloorMs).toBe(250);
    expect(readConfig({ ...base, RISKGATE_ENV: "development", RESET_RESPONSE_FLOOR_MS: "0" }).resetResponseFloorMs).toBe(0);
    expect(readConfig({ ...base, RISKGATE_ENV: "development", RESET_RESPONSE_FLOOR_MS: " 400 " }).resetResponseFloorMs).toBe(400);
    for (const bad of ["-1", "1.5", "abc", "10001"]) {
      expect(() => readConfig({ ...base, RISKGATE_ENV: "development", RESET_RESPONSE_FLOOR_MS: bad })).toThrow(/RESET_RESPONSE_FLOOR_MS/);
    }
  });

  it.each([
    ["no HMAC secret in production", { DECISION_SIGNING_KEYS: prodKey }, /ACCOUNT_HMAC_SECRET is required/],
    ["a short HMAC secret", { ACCOUNT_HMAC_SECRET: "short", DECISION_SIGNING_KEYS: prodKey }, /at least 32/],
    ["no signing keys in production", { ACCOUNT_HMAC_SECRET: strongSecret }, /DECISION_SIGNING_KEYS is required/],
    ["the dev key in production", { ACCOUNT_HMAC_SECRET: strongSecret, DECISION_SIGNING_KEYS: JSON.stringify([DEV_SIGNING_KEY]) }, /development key/],
    ["a bad origin URL", { RISKGATE_ENV: "development", ORIGIN_URL: "not a url" }, /ORIGIN_URL/],
    ["an unknown store", { RISKGATE_ENV: "development", STORE: "mysql" }, /STORE must be/],
    ["an unknown environment", { RISKGATE_ENV: "staging" }, /RISKGATE_ENV/],
    ["a store timeout that is not a number", { RISKGATE_ENV: "development", STORE_TIMEOUT_MS: "soon" }, /STORE_TIMEOUT_MS/],
    ["a store timeout with a unit", { RISKGATE_ENV: "development", STORE_TIMEOUT_MS: "150ms" }, /STORE_TIMEOUT_MS/],
    ["a zero store timeout", { RISKGATE_ENV: "development", STORE_TIMEOUT_MS: "0" }, /STORE_TIMEOUT_MS/],
    ["a store timeout over a minute", { RISKGATE_ENV: "development", STORE_TIMEOUT_MS: "60001" }, /STORE_TIMEOUT_MS/],
  ])("refuses %s with a clear error", (_name, overrides, message) => {
    expect(() => readConfig({ ...base, ...overrides } as Env)).toThrow(ConfigError);
    expect(() => readConfig({ ...base, ...overrides } as Env)).toThrow(message);
  });
});

describe("loadSigningKeys", () => {
  it("publishes every key without its private part, current first", async () => {
    const keys = await loadSigningKeys(JSON.stringify([DEV_SIGNING_KEY, { ...DEV_SIGNING_KEY, kid: "old" }]));
    expect(keys.current.kid).toBe("dev-2026-1");
    expect(keys.publicJwks.map((k) => k.kid)).toEqual(["dev-2026-1", "old"]);
    for (const k of keys.publicJwks) expect(k).not.toHaveProperty("d");
  });

  it.each([
    ["not JSON", "{", /not valid JSON/],
    ["empty", "[]", /non-empty/],
    ["no kid", JSON.stringify([{ ...DEV_SIGNING_KEY, kid: undefined }]), /no kid/],
    ["public only", JSON.stringify([{ ...DEV_SIGNING_KEY, d: undefined }]), /not a private key/],
    ["RS256", JSON.stringify([{ ...DEV_SIGNING_KEY, alg: "RS256" }]), /ES256 or EdDSA/],
  ])("rejects %s", async (_name, raw, message) => {
    await expect(loadSigningKeys(raw)).rejects.toThrow(message);
  });
});
