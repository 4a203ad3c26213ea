/**
 * The Worker's bindings as the runtime passes them: the variables (src/shared/env.ts)
 * and the two Durable Object namespaces, typed with their classes. Only the wiring and
 * the entry see this type; the classes and everything below them read `Env`.
 */
import type { RiskgateAuditHub } from "../audit/hub/object.ts";
import type { Env } from "../shared/env.ts";
import type { RiskgateStore } from "../store/durable-object.ts";

/** Bindings as the runtime passes them. */
export interface WorkerEnv extends Env {
  readonly RISKGATE_STORE: DurableObjectNamespace<RiskgateStore>;
  /** The audit hub: recent events, metric aggregation and the outbox. */
  readonly RISKGATE_AUDIT: DurableObjectNamespace<RiskgateAuditHub>;
}
