// CAPTCHA configuration: development defaults (Cloudflare's test keys), production
// requirements, and the mistakes refused once, at start-up.
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/gateway/config.ts";
import type { Env } from "../../src/shared/env.ts";
import { ConfigError } from "../../src/shared/errors.ts";
import { DEV_SIGNING_KEY } from "../../src/origin/signing-keys.ts";

const dev = { ORIGIN_URL: "https://origin.example", RISKGATE_STORE: {}, RISKGATE_ENV: "development" } as unknown as Env;
const prod = {
  ...dev,
  RISKGATE_ENV: "production",
  ACCOUNT_HMAC_SECRET: "s".repeat(40),
  DECISION_SIGNING_KEYS: JSON.stringify([{ ...DEV_SIGNING_KEY, d: "AAAA", kid: "prod-1" }]),
  TURNSTILE_SITE_KEY: "0x4AAAAAAAsite",
  TURNSTILE_SECRET_KEY: "0x4AAAAAAAsecret",
} as unknown as Env;

describe("CAPTCHA configuration", () => {
  it("defaults to Turnstile with Cloudflare's always-passing test keys in development", () => {
    const captcha = readConfig(dev).captcha;
    expect(captcha).toMatchObject({
      siteKey: "1x00000000000000000000AA",
      secret: "1x0000000000000000000000000000000AA",
      siteverifyUrl: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
      scriptUrl: "https://challenges.cloudflare.com/turnstile/v0/api.js",
      hostnames: null,
      passSecretDerived: true,
    });
    expect(captcha?.profile.name).toBe("turnstile");
  });

  it.each<[string, Partial<Record<keyof Env, string>>, object]>([
    ["production keys", {}, { siteKey: "0x4AAAAAAAsite", secret: "0x4AAAAAAAsecret" }],
    ["hCaptcha with generic key names", { CAPTCHA_PROVIDER: "hcaptcha", CAPTCHA_SITE_KEY: "h-site", CAPTCHA_SECRET_KEY: "h-secret" }, { siteKey: "h-site", siteverifyUrl: "https://api.hcaptcha.com/siteverify" }],
    ["reCAPTCHA", { CAPTCHA_PROVIDER: "recaptcha", CAPTCHA_SITE_KEY: "r-site", CAPTCHA_SECRET_KEY: "r-secret" }, { siteverifyUrl: "https://www.google.com/recaptcha/api/siteverify" }],
    ["a siteverify URL and hostnames", { SITEVERIFY_URL: "https://verify.internal/siteverify", CAPTCHA_HOSTNAMES: "Example.com, www.example.com" }, { siteverifyUrl: "https://verify.internal/siteverify", hostnames: ["example.com", "www.example.com"] }],
    ["a dedicated pass secret", { CAPTCHA_PASS_SECRET: "x".repeat(32) }, { passSecret: "x".repeat(32), passSecretDerived: false }],
  ])("accepts %s in production", (_label, over, expected) => {
    expect(readConfig({ ...prod, ...over } as Env).captcha).toMatchObject(expected);
  });

  it("turns CAPTCHAs off with CAPTCHA_PROVIDER=none", () => {
    const env = { ...prod, CAPTCHA_PROVIDER: "none", TURNSTILE_SITE_KEY: "", TURNSTILE_SECRET_KEY: "" } as Env;
    expect(readConfig(env).captcha).toBeNull();
  });

  it("lets development point siteverify and the widget at a local stand-in over http", () => {
    const env = { ...dev, SITEVERIFY_URL: "http://127.0.0.1:8789/turnstile/v0/siteverify", CAPTCHA_SCRIPT_URL: "http://127.0.0.1:8789/turnstile/v0/api.js" } as Env;
    expect(readConfig(env).captcha).toMatchObject({ siteverifyUrl: "http://127.0.0.1:8789/turnstile/v0/siteverify" });
  });

  it.each<[string, Partial<Record<keyof Env, string>>, RegExp]>([
    ["no Turnstile keys in production", { TURNSTILE_SITE_KEY: "", TURNSTILE_SECRET_KEY: "" }, /needs TURNSTILE_SITE_KEY and TURNSTILE_SECRET_KEY/],
    ["the test secret in production", { TURNSTILE_SECRET_KEY: "1x0000000000000000000000000000000AA" }, /test keys/],
    ["the test site key in production", { TURNSTILE_SITE_KEY: "3x00000000000000000000FF" }, /test keys/],
    ["an unknown provider", { CAPTCHA_PROVIDER: "friendly-captcha" }, /CAPTCHA_PROVIDER must be/],
    ["hCaptcha without keys", { CAPTCHA_PROVIDER: "hcaptcha" }, /needs CAPTCHA_SITE_KEY and CAPTCHA_SECRET_KEY/],
    ["two different Turnstile secrets", { CAPTCHA_SECRET_KEY: "0x4AAAAAAAother" }, /both set and differ/],
    ["plain http siteverify in production", { SITEVERIFY_URL: "http://verify.internal/" }, /SITEVERIFY_URL must be https/],
    ["a script URL that is not one", { CAPTCHA_SCRIPT_URL: "api.js" }, /CAPTCHA_SCRIPT_URL must be an absolute URL/],
    ["a short pass secret", { CAPTCHA_PASS_SECRET: "short" }, /at least 32/],
  ])("refuses %s", (_label, over, message) => {
    const env = { ...prod, ...over } as Env;
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });
});
