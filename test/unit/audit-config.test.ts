// AUDIT_* configuration: a webhook is either fully and safely configured or refused.
import { describe, expect, it } from "vitest";
import { readAuditConfig } from "../../src/audit/config.ts";
import type { Env } from "../../src/shared/env.ts";
import { ConfigError } from "../../src/shared/errors.ts";

const env = (vars: Record<string, unknown>) => vars as unknown as Env;
const SECRET = "s".repeat(32);

describe("readAuditConfig", () => {
  it("defaults to OCSF with no remote sink", () => {
    expect(readAuditConfig(env({}))).toEqual({ format: "ocsf", webhook: null, queue: false });
  });

  it("reads a complete webhook and notices a queue binding", () => {
    const config = readAuditConfig(
      env({ AUDIT_WEBHOOK_URL: "https://siem.example/in", AUDIT_WEBHOOK_SECRET: SECRET, AUDIT_WEBHOOK_BATCH: "50", AUDIT_QUEUE: {} }),
    );
    expect(config.webhook).toMatchObject({ secret: SECRET, batchSize: 50, timeoutMs: 10_000 });
    expect(config.webhook?.url.href).toBe("https://siem.example/in");
    expect(config.queue).toBe(true);
  });

  it("allows plain http only in development", () => {
    const dev = readAuditConfig(env({ RISKGATE_ENV: "development", AUDIT_WEBHOOK_URL: "http://127.0.0.1:9/", AUDIT_WEBHOOK_SECRET: "x" }));
    expect(dev.webhook?.url.protocol).toBe("http:");
  });

  it.each([
    ["http in production", { AUDIT_WEBHOOK_URL: "http://siem.example", AUDIT_WEBHOOK_SECRET: SECRET }, /https/],
    ["a URL without a secret", { AUDIT_WEBHOOK_URL: "https://siem.example" }, /AUDIT_WEBHOOK_SECRET is required/],
    ["a short secret", { AUDIT_WEBHOOK_URL: "https://siem.example", AUDIT_WEBHOOK_SECRET: "short" }, /at least 32/],
    ["a bad timeout", { AUDIT_WEBHOOK_URL: "https://siem.example", AUDIT_WEBHOOK_SECRET: SECRET, AUDIT_WEBHOOK_TIMEOUT_MS: "soon" }, /TIMEOUT_MS/],
    ["an unknown format", { AUDIT_FORMAT: "cef" }, /AUDIT_FORMAT/],
    ["not a URL", { AUDIT_WEBHOOK_URL: "siem", AUDIT_WEBHOOK_SECRET: SECRET }, /absolute https URL/],
  ])("refuses %s", (_name, vars, message) => {
    expect(() => readAuditConfig(env(vars))).toThrow(ConfigError);
    expect(() => readAuditConfig(env(vars))).toThrow(message);
  });
});
