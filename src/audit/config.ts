/**
 * Audit sink configuration from env, read by the gateway and by the audit hub (a
 * Durable Object has its own env). A half-configured webhook is a ConfigError: an
 * operator who set a URL expects events to arrive, not to be silently skipped.
 */
import type { Env } from "../shared/env.ts";
import { ConfigError } from "../shared/errors.ts";
import type { AuditFormat } from "./sinks/format.ts";
import type { WebhookConfig } from "./sinks/webhook.ts";

/** Validated audit configuration. */
export interface AuditConfig {
  readonly format: AuditFormat;
  readonly webhook: WebhookConfig | null;
  readonly queue: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_BATCH = 500;

function intIn(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** Read and check the AUDIT_* variables. */
export function readAuditConfig(env: Env): AuditConfig {
  const development = env.RISKGATE_ENV === "development";
  const format = env.AUDIT_FORMAT ?? "ocsf";
  if (format !== "ocsf" && format !== "riskgate") {
    throw new ConfigError(`AUDIT_FORMAT must be "ocsf" or "riskgate", not "${format}"`);
  }
  return { format, webhook: readWebhook(env, development), queue: env.AUDIT_QUEUE !== undefined };
}

function readWebhook(env: Env, development: boolean): WebhookConfig | null {
  const raw = env.AUDIT_WEBHOOK_URL;
  if (raw === undefined || raw === "") return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("AUDIT_WEBHOOK_URL must be an absolute https URL");
  }
  // Plain http only locally: audit events describe users and must not cross networks in clear.
  if (url.protocol !== "https:" && !(development && url.protocol === "http:")) {
    throw new ConfigError("AUDIT_WEBHOOK_URL must be an https URL");
  }
  const secret = env.AUDIT_WEBHOOK_SECRET ?? "";
  if (secret.length < (development ? 1 : 32)) {
    throw new ConfigError("AUDIT_WEBHOOK_SECRET is required with AUDIT_WEBHOOK_URL (at least 32 characters)");
  }
  return {
    url,
    secret,
    timeoutMs: intIn("AUDIT_WEBHOOK_TIMEOUT_MS", env.AUDIT_WEBHOOK_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, 100, 60_000),
    batchSize: intIn("AUDIT_WEBHOOK_BATCH", env.AUDIT_WEBHOOK_BATCH, DEFAULT_BATCH, 1, 5_000),
  };
}

/** How the audit hub is laid out (docs/store.md, "Audit hub sizing"). */
export interface HubConfig {
  /** Hub shards events are spread over (AUDIT_HUB_SHARDS). */
  readonly shards: number;
  /** Most events each shard keeps for the dashboard, oldest dropped first (AUDIT_HUB_MAX_EVENTS). */
  readonly maxEvents: number;
}

export const DEFAULT_HUB_MAX_EVENTS = 50_000;

/** Read and check AUDIT_HUB_SHARDS and AUDIT_HUB_MAX_EVENTS. */
export function readHubConfig(env: Env): HubConfig {
  return {
    shards: intIn("AUDIT_HUB_SHARDS", env.AUDIT_HUB_SHARDS, 1, 1, 64),
    maxEvents: intIn("AUDIT_HUB_MAX_EVENTS", env.AUDIT_HUB_MAX_EVENTS, DEFAULT_HUB_MAX_EVENTS, 100, 2_000_000),
  };
}
