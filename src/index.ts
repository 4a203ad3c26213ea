/**
 * Worker entry: the Hono app and the Durable Object class the embedded store uses.
 */
import { createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { gatewayFor } from "./gateway.ts";

export { RiskgateStore } from "./store/durable-object.ts";

const app = createApp(gatewayFor);

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
