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
  /** `auto` (default), `cf`, `local` or `off`: where geo comes from (docs/signals.md). */
  readonly GEO_SOURCE?: string;
  /** The origin's public JWK(s) that sign POST /v1/outcomes (docs/outcomes.md). */
  readonly OUTCOME_VERIFY_KEYS?: string;
  /** With STORE=upstash: the database's REST URL (https; http only in development). */
  readonly UPSTASH_REDIS_REST_URL?: string;
  /** With STORE=upstash: the database's REST token (a secret). */
  readonly UPSTASH_REDIS_REST_TOKEN?: string;
  readonly RISKGATE_STORE: DurableObjectNamespace<RiskgateStore>;
}
