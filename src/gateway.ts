/**
 * Everything a request needs that is built once per isolate from `env`: config,
 * compiled rules, store adapter, keys and hasher. Configuration errors surface here,
 * on the first request, with the problem named in the log.
 */
import { type Config, readConfig } from "./config.ts";
import { createHasher, type Hasher } from "./context/hmac.ts";
import type { Env } from "./env.ts";
import { ConfigError } from "./errors.ts";
import { createAdminAuth, type AdminAuth } from "./admin/auth.ts";
import { readAdminConfig } from "./admin/config.ts";
import { type Auditor, createAuditor } from "./audit/auditor.ts";
import { readAuditConfig } from "./audit/config.ts";
import type { RiskgateAuditHub } from "./audit/hub/object.ts";
import { startupEvents } from "./audit/record.ts";
import { durableSink } from "./audit/sinks/hub.ts";
import { logSink } from "./audit/sinks/log.ts";
import { analyticsEngineSink } from "./metrics/analytics-engine.ts";
import { loadSigningKeys, type SigningKeys } from "./origin/signing-keys.ts";
import { bundledRuleset } from "./rules/bundled.ts";
import type { CompiledRuleset } from "./rules/compile.ts";
import { DurableObjectStore } from "./store/durable-object.ts";
import type { Store } from "./store/port.ts";

/** The per-isolate dependencies of the request path. Tests build their own. */
export interface Gateway {
  readonly config: Config;
  readonly ruleset: CompiledRuleset;
  readonly store: Store;
  readonly keys: SigningKeys;
  readonly hasher: Hasher;
  readonly fetcher: typeof fetch;
  readonly now: () => number;
  readonly newId: () => string;
  /** The audit trail: `emit` events after the response (inside waitUntil). docs/audit.md. */
  readonly audit: Auditor;
  /** Admin authentication for /__riskgate/*. */
  readonly admin: AdminAuth;
  /** The audit hub (recent events, metrics, outbox) the admin API reads. */
  readonly hub: () => DurableObjectStub<RiskgateAuditHub>;
}

/** Build the gateway for `env`. Throws ConfigError on unusable configuration. */
export async function createGateway(env: Env): Promise<Gateway> {
  const config = readConfig(env);
  const ruleset = bundledRuleset();
  const keys = await loadSigningKeys(config.signingKeysJson);
  const now = () => Date.now();
  const newId = () => crypto.randomUUID();
  const hub = () => env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName("hub"));
  return {
    config,
    ruleset,
    store: createStore(env, config, ruleset),
    keys,
    hasher: await createHasher(config.hmacSecret),
    fetcher: (input, init) => fetch(input, init),
    now,
    newId,
    audit: createGatewayAuditor(env, { rules: ruleset.version, now, newId, hub, startup: startupEvents(ruleset, keys) }),
    admin: await createAdminAuth(readAdminConfig(env)),
    hub,
  };
}

/** The isolate's auditor: log line, Analytics Engine (when bound), queue and audit hub. */
function createGatewayAuditor(
  env: Env,
  deps: Pick<Parameters<typeof createAuditor>[0], "rules" | "now" | "newId" | "startup"> & {
    hub: () => DurableObjectStub<RiskgateAuditHub>;
  },
): Auditor {
  const audit = readAuditConfig(env);
  const sinks = [
    logSink(),
    ...(env.RISKGATE_METRICS === undefined ? [] : [analyticsEngineSink(env.RISKGATE_METRICS)]),
    durableSink({ hub: deps.hub, queue: env.AUDIT_QUEUE ?? null, webhook: audit.webhook !== null, format: audit.format }),
  ];
  return createAuditor({ ...deps, source: deps.newId(), sinks });
}

function createStore(env: Env, config: Config, ruleset: CompiledRuleset): Store {
  if (config.store === "upstash") {
    throw new ConfigError("STORE=upstash is not available in this build");
  }
  return new DurableObjectStore({
    namespace: env.RISKGATE_STORE,
    shards: config.storeShards,
    timeoutMs: ruleset.storeTimeoutMs,
  });
}

const gateways = new WeakMap<Env, Promise<Gateway>>();

/** The gateway for `env`, built once and shared (a failed build is retried next time). */
export function gatewayFor(env: Env): Promise<Gateway> {
  let gateway = gateways.get(env);
  if (gateway === undefined) {
    gateway = createGateway(env);
    gateways.set(env, gateway);
    gateway.catch((err: unknown) => {
      gateways.delete(env);
      if (err instanceof ConfigError) console.error(JSON.stringify({ type: "riskgate.config_error", message: err.message }));
    });
  }
  return gateway;
}
