/**
 * Env → validated configuration, once per isolate. Bad configuration throws a
 * ConfigError naming the problem; it is never discovered request by request.
 */
import { type CaptchaConfig, readCaptchaConfig } from "../captcha/config.ts";
import type { Env } from "../shared/env.ts";
import { ConfigError } from "../shared/errors.ts";
import { DEV_SIGNING_KEY } from "../origin/signing-keys.ts";

/** The documented development HMAC secret (README): fine locally, refused in production. */
export const DEV_HMAC_SECRET = "riskgate-development-only-secret";

/**
 * The reset route's default answer time floor in ms (RESET_RESPONSE_FLOOR_MS): every answer
 * after the screen stage leaves no earlier than this after the request came in, so the
 * work that differs by verdict does not show in the response time (docs/architecture.md,
 * "Why the reset answers at a fixed floor").
 */
export const DEFAULT_RESET_RESPONSE_FLOOR_MS = 250;

/** Validated configuration. */
export interface Config {
  readonly development: boolean;
  readonly originUrl: URL;
  readonly hmacSecret: string;
  readonly signingKeysJson: string;
  readonly trustedIpHeader: string | null;
  /** Proxies in front of riskgate that append to a list-valued trusted header (default 1). */
  readonly trustedProxyHops: number;
  readonly store: "durable-object" | "upstash";
  readonly storeShards: number;
  /** STORE_TIMEOUT_MS: overrides the rule file's `store.timeout`; null when unset. */
  readonly storeTimeoutMs: number | null;
  /** Set when `store` is `upstash`. */
  readonly upstash: { readonly url: string; readonly token: string } | null;
  /** CAPTCHA provider and keys; null with CAPTCHA_PROVIDER=none. */
  readonly captcha: CaptchaConfig | null;
  /** RESET_RESPONSE_FLOOR_MS: the reset route's answer time floor; 0 turns it off. */
  readonly resetResponseFloorMs: number;
}

/** Read and check `env`. */
export function readConfig(env: Env): Config {
  const mode = env.RISKGATE_ENV ?? "production";
  if (mode !== "production" && mode !== "development") {
    throw new ConfigError(`RISKGATE_ENV must be "production" or "development", not "${mode}"`);
  }
  const development = mode === "development";
  const need = (name: "ACCOUNT_HMAC_SECRET" | "DECISION_SIGNING_KEYS", devDefault: string): string => {
    const value = env[name];
    if (value !== undefined && value.length > 0) return value;
    if (development) return devDefault;
    throw new ConfigError(`${name} is required when RISKGATE_ENV=production (set it with wrangler secret put ${name})`);
  };
  const hmacSecret = need("ACCOUNT_HMAC_SECRET", DEV_HMAC_SECRET);
  if (!development && (hmacSecret.length < 32 || hmacSecret === DEV_HMAC_SECRET)) {
    throw new ConfigError("ACCOUNT_HMAC_SECRET must be at least 32 characters and not the development secret");
  }
  const signingKeysJson = need("DECISION_SIGNING_KEYS", JSON.stringify([DEV_SIGNING_KEY]));
  if (!development && signingKeysJson.includes(DEV_SIGNING_KEY.d ?? "")) {
    throw new ConfigError("DECISION_SIGNING_KEYS must not contain the development key in production");
  }
  let originUrl: URL;
  try {
    originUrl = new URL(env.ORIGIN_URL ?? "");
  } catch {
    throw new ConfigError("ORIGIN_URL must be an absolute http(s) URL");
  }
  if (originUrl.protocol !== "https:" && originUrl.protocol !== "http:") {
    throw new ConfigError("ORIGIN_URL must be an absolute http(s) URL");
  }
  const store = env.STORE ?? "durable-object";
  if (store !== "durable-object" && store !== "upstash") {
    throw new ConfigError(`STORE must be "durable-object" or "upstash", not "${store}"`);
  }
  const storeShards = Number(env.STORE_SHARDS ?? "1");
  if (!Number.isInteger(storeShards) || storeShards < 1 || storeShards > 256) {
    throw new ConfigError("STORE_SHARDS must be an integer from 1 to 256");
  }
  const rawTimeout = env.STORE_TIMEOUT_MS?.trim() ?? "";
  const storeTimeoutMs = rawTimeout === "" ? null : Number(rawTimeout);
  if (storeTimeoutMs !== null && (!/^\d+$/.test(rawTimeout) || storeTimeoutMs < 10 || storeTimeoutMs > 60_000)) {
    throw new ConfigError("STORE_TIMEOUT_MS must be an integer from 10 to 60000 (milliseconds)");
  }
  const rawFloor = env.RESET_RESPONSE_FLOOR_MS?.trim() ?? "";
  const resetResponseFloorMs = rawFloor === "" ? DEFAULT_RESET_RESPONSE_FLOOR_MS : Number(rawFloor);
  if (!/^\d*$/.test(rawFloor) || resetResponseFloorMs > 10_000) {
    throw new ConfigError("RESET_RESPONSE_FLOOR_MS must be an integer from 0 to 10000 (milliseconds)");
  }
  const upstash = store === "upstash" ? readUpstash(env, development) : null;
  const trusted = env.TRUSTED_IP_HEADER?.trim().toLowerCase();
  const trustedProxyHops = Number(env.TRUSTED_PROXY_HOPS ?? "1");
  if (!Number.isInteger(trustedProxyHops) || trustedProxyHops < 1 || trustedProxyHops > 16) {
    throw new ConfigError("TRUSTED_PROXY_HOPS must be an integer from 1 to 16");
  }
  return {
    development,
    originUrl,
    hmacSecret,
    signingKeysJson,
    trustedIpHeader: trusted === undefined || trusted === "" ? null : trusted,
    trustedProxyHops,
    store,
    storeShards,
    storeTimeoutMs,
    upstash,
    captcha: readCaptchaConfig(env, development, hmacSecret),
    resetResponseFloorMs,
  };
}

/** The Upstash REST endpoint and token; plain http only in development (the local bridge). */
function readUpstash(env: Env, development: boolean): { url: string; token: string } {
  const url = env.UPSTASH_REDIS_REST_URL?.trim() ?? "";
  const token = env.UPSTASH_REDIS_REST_TOKEN?.trim() ?? "";
  if (url === "" || token === "") {
    throw new ConfigError(
      "STORE=upstash needs UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (wrangler secret put; locally `npm run redis` prints them)",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError("UPSTASH_REDIS_REST_URL must be an absolute URL");
  }
  if (parsed.protocol !== "https:" && !(development && parsed.protocol === "http:")) {
    throw new ConfigError("UPSTASH_REDIS_REST_URL must be https (http only with RISKGATE_ENV=development)");
  }
  return { url: url.replace(/\/+$/, ""), token };
}
