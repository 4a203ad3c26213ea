/**
 * The Hono app: the JWKS, the admin area (/__riskgate), the scored reset routes from
 * the rule file, and a pass-through for every other path. Errors become responses only
 * in `onError` (`failed`).
 *
 * A request to a scored route in its plain spelling skips Hono's dispatch (router, context,
 * middleware chain): it is the path a flood takes, and Hono's share of a refused request
 * was about a tenth of it (BENCHMARKS.md, scenario d). It reaches the same handler with the
 * same error handling; every other path goes through Hono as before.
 */
import { Hono } from "hono";
import { clientIp } from "./context/client-ip.ts";
import { ADMIN_BASE, adminRoutes } from "./admin/routes.ts";
import type { Gateway } from "./gateway/gateway.ts";
import type { WorkerEnv } from "./gateway/env.ts";
import { forward } from "./origin/forward.ts";
import { handleAccounts } from "./outcomes/accounts.ts";
import { handleOutcome } from "./outcomes/index.ts";
import { matchRoute, rawPath } from "./reset/match.ts";
import { resetRoute } from "./reset/route.ts";
import { errorResponse, RiskgateError } from "./shared/errors.ts";

type AppEnv = { Bindings: WorkerEnv; Variables: { gateway: Gateway } };

/** The app's entry point, as the platform calls it. */
export interface App {
  fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response>;
}

/** Paths Hono routes itself (besides the admin area): never taken by the direct path. */
const OWN_PATHS: ReadonlySet<string> = new Set(["/.well-known/jwks.json", "/v1/outcomes"]);

/** Build the app; `load` supplies the per-isolate gateway (tests pass their own). */
export function createApp(load: (env: WorkerEnv) => Promise<Gateway>): App {
  const app = honoApp(load);
  return {
    async fetch(request, env, ctx) {
      const path = rawPath(request.url);
      // Hono decodes escapes before it routes, and owns the admin area and its own paths.
      if (path.includes("%") || path.startsWith(ADMIN_BASE) || OWN_PATHS.has(path)) return app.fetch(request, env, ctx);
      try {
        const gateway = await load(env);
        const match = matchRoute(gateway.ruleset.spec.routes, path);
        if (match === undefined || "ambiguous" in match) return await app.fetch(request, env, ctx);
        return await resetRoute(request, match.route, gateway, ctx);
      } catch (err) {
        return failed(err);
      }
    },
  };
}

/** An error as the client's answer (a RiskgateError's own; anything else logged first). */
function failed(err: unknown): Response {
  if (!(err instanceof RiskgateError)) console.error(JSON.stringify({ type: "riskgate.error", message: String(err) }));
  return errorResponse(err);
}

/** The Hono app: every path but the direct one (above). */
function honoApp(load: (env: WorkerEnv) => Promise<Gateway>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async function loadGateway(c, next) {
    c.set("gateway", await load(c.env));
    await next();
  });

  app.get("/.well-known/jwks.json", (c) =>
    c.json({ keys: c.var.gateway.keys.publicJwks }, 200, { "cache-control": "public, max-age=300" }),
  );

  app.post("/v1/outcomes", (c) => handleOutcome(c.req.raw, c.var.gateway, c.executionCtx));
  app.post("/v1/accounts", (c) => handleAccounts(c.req.raw, c.var.gateway));

  // The admin area (dashboard, metrics, audit API); every path behind admin auth.
  app.route(ADMIN_BASE, adminRoutes());

  // Every spelling an origin would route to a scored path is scored; one that only some
  // origins would is refused (src/reset/match.ts): no bypass by spelling.
  app.all("*", async function route(c) {
    const gateway = c.var.gateway;
    const match = matchRoute(gateway.ruleset.spec.routes, rawPath(c.req.url));
    if (match === undefined) return passThrough(c.req.raw, gateway);
    if ("ambiguous" in match) {
      throw new RiskgateError("ERR_PATH_AMBIGUOUS", "this spelling of a scored path is ambiguous; use its plain form");
    }
    return resetRoute(c.req.raw, match.route, gateway, c.executionCtx);
  });

  app.onError(failed);
  return app;
}

/** Unscored paths go to the origin unchanged, minus spoofable headers. */
async function passThrough(request: Request, gateway: Gateway): Promise<Response> {
  const result = await forward(request, request.body, {}, {
    originUrl: gateway.config.originUrl,
    clientIp: clientIp(request.headers, gateway.config.trustedIpHeader, gateway.config.trustedProxyHops)?.address ?? null,
    timeoutMs: gateway.ruleset.originTimeoutMs,
    fetcher: gateway.fetcher,
  });
  if (result.ok) return new Response(result.response.body, result.response);
  return Response.json({ error: { code: result.code, message: "origin unavailable" } }, { status: 502 });
}
