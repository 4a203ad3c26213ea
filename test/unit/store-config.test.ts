import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/gateway/config.ts";
import type { Env } from "../../src/shared/env.ts";
import { ConfigError } from "../../src/shared/errors.ts";

const dev = { ORIGIN_URL: "https://origin.example", RISKGATE_STORE: {}, RISKGATE_ENV: "development" } as unknown as Env;
const prod = {
  ...dev,
  RISKGATE_ENV: "production",
  ACCOUNT_HMAC_SECRET: "s".repeat(40),
  DECISION_SIGNING_KEYS: JSON.stringify([{ kty: "EC", crv: "P-256", x: "x", y: "y", d: "AAAA", kid: "prod-1" }]),
  TURNSTILE_SITE_KEY: "0x4AAAAAAAprod-site",
  TURNSTILE_SECRET_KEY: "0x4AAAAAAAprod-secret",
} as unknown as Env;

describe("store configuration", () => {
  it.each([
    ["the default", dev, "durable-object", null],
    ["upstash over https in production", { ...prod, STORE: "upstash", UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io/", UPSTASH_REDIS_REST_TOKEN: "tok" }, "upstash", { url: "https://eu1-x.upstash.io", token: "tok" }],
    ["the local bridge over http in development", { ...dev, STORE: "upstash", UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079", UPSTASH_REDIS_REST_TOKEN: "tok" }, "upstash", { url: "http://127.0.0.1:8079", token: "tok" }],
    ["Upstash secrets present but the DO chosen", { ...dev, UPSTASH_REDIS_REST_URL: "https://x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "tok" }, "durable-object", null],
  ])("accepts %s", (_label, env, store, upstash) => {
    const config = readConfig(env as Env);
    expect(config.store).toBe(store);
    expect(config.upstash).toEqual(upstash);
  });

  it.each([
    ["upstash without a URL", { ...dev, STORE: "upstash", UPSTASH_REDIS_REST_TOKEN: "tok" }, /needs UPSTASH_REDIS_REST_URL/],
    ["upstash without a token", { ...dev, STORE: "upstash", UPSTASH_REDIS_REST_URL: "https://x.upstash.io" }, /UPSTASH_REDIS_REST_TOKEN/],
    ["a URL that is not one", { ...dev, STORE: "upstash", UPSTASH_REDIS_REST_URL: "x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" }, /absolute URL/],
    ["plain http in production", { ...prod, STORE: "upstash", UPSTASH_REDIS_REST_URL: "http://x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" }, /must be https/],
    ["zero shards", { ...dev, STORE_SHARDS: "0" }, /STORE_SHARDS/],
    ["fractional shards", { ...dev, STORE_SHARDS: "1.5" }, /STORE_SHARDS/],
  ])("refuses %s", (_label, env, message) => {
    expect(() => readConfig(env as Env)).toThrow(ConfigError);
    expect(() => readConfig(env as Env)).toThrow(message);
  });
});
