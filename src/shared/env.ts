/**
 * The Worker's bindings and variables (wrangler.toml `[vars]`, secrets, Durable Object).
 * Documented in docs/configuration.md. The two Durable Object namespaces are typed by
 * the wiring (src/gateway/env.ts), which sees the classes; this file sits below them.
 */

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
  readonly TRUSTED_PROXY_HOPS?: string;
  /** `durable-object` (default) or `upstash`. */
  readonly STORE?: string;
  /** Number of Durable Object shards (default 1). */
  readonly STORE_SHARDS?: string;
  /** Store call timeout in ms; overrides the rule file's `store.timeout` when set. */
  readonly STORE_TIMEOUT_MS?: string;
  /** Offline (`npm start`, tests): fetch every live list source from `<url>/<source id>` (docs/lists.md). */
  readonly LIST_SOURCES_URL?: string;
  /** The reset route's answer time floor in ms (default 250; 0: off). */
  readonly RESET_RESPONSE_FLOOR_MS?: string;
  /** `auto` (default), `cf`, `local` or `off`: where geo comes from (docs/signals.md). */
  readonly GEO_SOURCE?: string;
  /** The origin's public JWK(s) that sign POST /v1/outcomes (docs/outcomes.md). */
  readonly OUTCOME_VERIFY_KEYS?: string;
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
  /** Admin bearer secret for /__riskgate/* (at least 32 chars in production). */
  readonly ADMIN_TOKEN?: string;
  /** Cloudflare Access team domain (e.g. `myteam.cloudflareaccess.com`), with ACCESS_AUD. */
  readonly ACCESS_TEAM_DOMAIN?: string;
  /** Cloudflare Access application AUD tag. */
  readonly ACCESS_AUD?: string;
  /** Remote audit sink format: `ocsf` (default) or `riskgate`. */
  readonly AUDIT_FORMAT?: string;
  /** SIEM webhook for audit events (https), with AUDIT_WEBHOOK_SECRET for the HMAC signature. */
  readonly AUDIT_WEBHOOK_URL?: string;
  readonly AUDIT_WEBHOOK_SECRET?: string;
  /** Webhook request timeout in ms (default 10000). */
  readonly AUDIT_WEBHOOK_TIMEOUT_MS?: string;
  /** Most events per webhook request (default 500). */
  readonly AUDIT_WEBHOOK_BATCH?: string;
  /** Optional Queue producer binding for audit events. */
  readonly AUDIT_QUEUE?: Queue;
  /** Audit hub shards, 1 to 64 (default 1); shard 0 also holds the live lists. */
  readonly AUDIT_HUB_SHARDS?: string;
  /** Events each hub shard keeps for the dashboard, oldest dropped first (default 50000). */
  readonly AUDIT_HUB_MAX_EVENTS?: string;
  /** Retries of failed forwards to the origin (docs/architecture.md); optional. */
  readonly RESET_QUEUE?: Queue;
  /** Optional Workers Analytics Engine dataset for metrics. */
  readonly RISKGATE_METRICS?: AnalyticsEngineDataset;
}
