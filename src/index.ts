/**
 * Worker entry: the Hono app and the Durable Object classes (the embedded store and
 * the audit hub).
 */
import { createApp } from "./app.ts";
import type { WorkerEnv } from "./gateway/env.ts";
import { gatewayFor } from "./gateway/gateway.ts";

export { RiskgateAuditHub } from "./audit/hub/object.ts";
export { RiskgateStore } from "./store/durable-object.ts";

const app = createApp(gatewayFor);

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<WorkerEnv>;
