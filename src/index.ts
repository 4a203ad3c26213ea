/**
 * Worker entry: the Hono app and the Durable Object classes (the embedded store and
 * the audit hub).
 */
import { createApp } from "./app.ts";
import type { WorkerEnv } from "./gateway/env.ts";
import { gatewayFor } from "./gateway/gateway.ts";
import { refreshListSources } from "./gateway/list-refresh.ts";
import { type QueuedForward, retryForwards } from "./reset/deliver.ts";

export { RiskgateAuditHub } from "./audit/hub/object.ts";
export { RiskgateStore } from "./store/durable-object.ts";

const app = createApp(gatewayFor);

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  // RESET_QUEUE's consumer: retries of forwards the origin failed (src/reset/deliver.ts).
  queue: async (batch, env) => retryForwards(batch, await gatewayFor(env)),
  // The Cron Trigger: live list sources refreshed into the live layer (src/audit/list-refresh.ts).
  scheduled: (_controller, env, ctx) => ctx.waitUntil(refreshListSources(env)),
} satisfies ExportedHandler<WorkerEnv, QueuedForward>;
