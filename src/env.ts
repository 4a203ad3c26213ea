/**
 * The Worker's bindings and variables (wrangler.toml `[vars]`, secrets, Durable Object).
 * Documented in docs/configuration.md.
 */
import type { RiskgateStore } from "./store/durable-object.ts";

/** Bindings as the runtime passes them. */
export interface Env {
  /** `production` (default) or `development`; only development may use built-in dev secrets. */
  readonly RISKGATE_ENV?: string;
  /** Where allowed requests go, e.g. `https://reset.internal.example`. */
  readonly ORIGIN_URL?: string;
  /** Secret for HMAC'ing identifiers; required in production. */
  readonly ACCOUNT_HMAC_SECRET?: string;
  /** JSON array of private JWKs for signing decisions; required in production. */
  readonly DECISION_SIGNING_KEYS?: string;
  /** A header set by a trusted proxy in front of riskgate; unset on Cloudflare. */
  readonly TRUSTED_IP_HEADER?: string;
  /** `durable-object` (default) or `upstash`. */
  readonly STORE?: string;
  /** Number of Durable Object shards (default 1). */
  readonly STORE_SHARDS?: string;
  /** With STORE=upstash: the database's REST URL (https; http only in development). */
  readonly UPSTASH_REDIS_REST_URL?: string;
  /** With STORE=upstash: the database's REST token (a secret). */
  readonly UPSTASH_REDIS_REST_TOKEN?: string;
  /** `turnstile` (default), `hcaptcha`, `recaptcha` or `none` (docs/rate-limits.md). */
  readonly CAPTCHA_PROVIDER?: string;
  /** Turnstile widget keys (the secret is a secret); development defaults to Cloudflare's test keys. */
  readonly TURNSTILE_SITE_KEY?: string;
  readonly TURNSTILE_SECRET_KEY?: string;
  /** The same for any provider (hCaptcha, reCAPTCHA). */
  readonly CAPTCHA_SITE_KEY?: string;
  readonly CAPTCHA_SECRET_KEY?: string;
  /** Siteverify endpoint; defaults to the provider's (tests and `npm start` use a local stand-in). */
  readonly SITEVERIFY_URL?: string;
  /** Widget script URL; defaults to the provider's. */
  readonly CAPTCHA_SCRIPT_URL?: string;
  /** Comma-separated hostnames a token may be solved on; default: the hostname the request came to. */
  readonly CAPTCHA_HOSTNAMES?: string;
  /** Secret for signing CAPTCHA passes (>= 32 chars); default: derived from ACCOUNT_HMAC_SECRET. */
  readonly CAPTCHA_PASS_SECRET?: string;
  readonly RISKGATE_STORE: DurableObjectNamespace<RiskgateStore>;
}
