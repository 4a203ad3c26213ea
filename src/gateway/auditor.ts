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
import { readAuditConfig } from "../audit/config.ts";
import type { RiskgateAuditHub } from "../audit/hub/object.ts";
import { startupEvents } from "../audit/startup.ts";
import { durableSink } from "../audit/sinks/hub.ts";
import { logSink } from "../audit/sinks/log.ts";

/** The one audit hub instance. */
export function auditHub(env: WorkerEnv): DurableObjectStub<RiskgateAuditHub> {
  return env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName("hub"));
}

/** Build the isolate's auditor; throws ConfigError on bad AUDIT_* settings. */
export function createGatewayAuditor(
  env: WorkerEnv,
  deps: { ruleset: CompiledRuleset; keys: SigningKeys; now: () => number; newId: () => string },
): Auditor {
  const config = readAuditConfig(env);
  const sinks: AuditSink[] = [
    logSink(),
    ...(env.RISKGATE_METRICS === undefined ? [] : [analyticsEngineSink(env.RISKGATE_METRICS)]),
    durableSink({ hub: () => auditHub(env), queue: env.AUDIT_QUEUE ?? null, webhook: config.webhook !== null, format: config.format }),
  ];
  return createAuditor({
    source: deps.newId(),
    rules: deps.ruleset.version,
    now: deps.now,
    newId: deps.newId,
    startup: startupEvents(deps.ruleset, deps.keys),
    sinks,
  });
}
