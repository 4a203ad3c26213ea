/**
 * The auditor each isolate builds from env: the structured log, Workers Analytics
 * Engine (when bound), the Cloudflare Queue (when bound) and the audit hub, which keeps
 * the webhook outbox. Its first events name the rule set and signing key in use.
 */
import type { WorkerEnv } from "./env.ts";
import { analyticsEngineSink } from "../metrics/analytics-engine.ts";
import type { SigningKeys } from "../origin/signing-keys.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import { type Auditor, type AuditSink, createAuditor } from "../audit/auditor.ts";
import { readAuditConfig, readHubConfig } from "../audit/config.ts";
import type { RiskgateAuditHub } from "../audit/hub/object.ts";
import { AuditHubs, hubName } from "../audit/hub/shards.ts";
import { startupEvents } from "../audit/startup.ts";
import { durableSink } from "../audit/sinks/hub.ts";
import { logSink } from "../audit/sinks/log.ts";
import { eventId } from "../shared/event-id.ts";

/** Audit hub shard 0 (`hub`): the live lists' one home, and the whole hub with one shard. */
export function auditHub(env: WorkerEnv): DurableObjectStub<RiskgateAuditHub> {
  return auditHubShard(env, 0);
}

/** Audit hub shard `n` (src/audit/hub/shards.ts). */
export function auditHubShard(env: WorkerEnv, n: number): DurableObjectStub<RiskgateAuditHub> {
  return env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName(hubName(n)));
}

/** Every hub shard, merged for the admin API. Throws ConfigError on a bad AUDIT_HUB_SHARDS. */
export function auditHubs(env: WorkerEnv): AuditHubs {
  return new AuditHubs((n) => auditHubShard(env, n), readHubConfig(env).shards);
}

/** Build the isolate's auditor; throws ConfigError on bad AUDIT_* settings. */
export function createGatewayAuditor(
  env: WorkerEnv,
  deps: { ruleset: CompiledRuleset; keys: SigningKeys; now: () => number; newId: () => string },
): Auditor {
  const config = readAuditConfig(env);
  const { shards } = readHubConfig(env);
  const sinks: AuditSink[] = [
    logSink(),
    ...(env.RISKGATE_METRICS === undefined ? [] : [analyticsEngineSink(env.RISKGATE_METRICS)]),
    durableSink({ hub: (n) => auditHubShard(env, n), shards, queue: env.AUDIT_QUEUE ?? null, webhook: config.webhook !== null, format: config.format }),
  ];
  return createAuditor({
    source: deps.newId(),
    rules: deps.ruleset.version,
    now: deps.now,
    // Event ids are time-ordered (the hub's id index grows at its end); the source stays a random UUID.
    newId: eventId,
    startup: startupEvents(deps.ruleset, deps.keys),
    sinks,
  });
}
