/**
 * The Hono app: the JWKS, the scored reset routes from the rule file, and a
 * pass-through for every other path. Errors become responses only in `onError`.
 */
import { Hono } from "hono";
import { act } from "./act.ts";
import { withDeviceCookie } from "./context/device-cookie.ts";
import { buildContext } from "./context/index.ts";
import type { Env } from "./env.ts";
import { errorResponse, RiskgateError } from "./errors.ts";
import { recordExperiment } from "./experiments/record.ts";
import type { Gateway } from "./gateway.ts";
import { forward } from "./origin/forward.ts";
import { handleOutcome } from "./outcomes/index.ts";
import { decide } from "./pipeline.ts";

type AppEnv = { Bindings: Env; Variables: { gateway: Gateway } };

/** Build the app; `load` supplies the per-isolate gateway (tests pass their own). */
export function createApp(load: (env: Env) => Promise<Gateway>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async function loadGateway(c, next) {
    c.set("gateway", await load(c.env));
    await next();
  });

  app.get("/.well-known/jwks.json", (c) =>
    c.json({ keys: c.var.gateway.keys.publicJwks }, 200, { "cache-control": "public, max-age=300" }),
  );

  app.post("/v1/outcomes", (c) => handleOutcome(c.req.raw, c.var.gateway, c.executionCtx));

  app.all("*", async function route(c) {
    const gateway = c.var.gateway;
    const path = new URL(c.req.url).pathname;
    const route = gateway.ruleset.spec.routes.find((r) => r.path === path);
    if (route === undefined) return passThrough(c.req.raw, gateway);
    if (c.req.method !== route.method) {
      throw new RiskgateError("ERR_METHOD_NOT_ALLOWED", `use ${route.method}`, { allow: route.method });
    }
    const started = gateway.now();
    const ctx = await buildContext(c.req.raw, route, {
      hasher: gateway.hasher,
      now: started,
      trustedIpHeader: gateway.config.trustedIpHeader,
      bodyLimit: gateway.ruleset.spec.limits.body_bytes,
      userAgentLimit: gateway.ruleset.spec.limits.user_agent_chars,
      geo: gateway.geo,
    });
    const { decision, shadowReasons, facts, candidate } = await decide(ctx, gateway);
    const result = await act(c.req.raw, ctx, decision, gateway);
    withDeviceCookie(result.response, ctx.device.cookie);
    // Experiment exposure and guardrail refresh: after the response, never before it.
    c.executionCtx.waitUntil(recordExperiment(gateway, decision, ctx.now));
    c.executionCtx.waitUntil(
      Promise.resolve().then(() =>
        gateway.log({
          type: "riskgate.decision",
          ts: new Date(started).toISOString(),
          id: decision.id,
          route: route.path,
          verdict: decision.verdict,
          tier: decision.tier,
          score: decision.score,
          channel: decision.channel,
          experiment: decision.experiment ?? null,
          reasons: decision.reasons,
          shadow_reasons: shadowReasons,
          mode: decision.mode,
          errors: result.origin?.ok === false
            ? [...decision.errors, { dependency: "origin", code: result.origin.code, failMode: "allow" }]
            : decision.errors,
          rules: decision.rulesetVersion,
          account: ctx.keys.account,
          ip: ctx.keys.ip,
          action: result.action,
          origin_status: result.origin?.ok ? result.origin.response.status : null,
          origin_ms: result.origin?.ms ?? null,
          ms: gateway.now() - started,
          facts,
          candidate,
        }),
      ),
    );
    return result.response;
  });

  app.onError((err) => {
    if (!(err instanceof RiskgateError)) console.error(JSON.stringify({ type: "riskgate.error", message: String(err) }));
    return errorResponse(err);
  });
  return app;
}

/** Unscored paths go to the origin unchanged, minus spoofable headers. */
async function passThrough(request: Request, gateway: Gateway): Promise<Response> {
  const result = await forward(request, request.body, {}, {
    originUrl: gateway.config.originUrl,
    timeoutMs: gateway.ruleset.originTimeoutMs,
    fetcher: gateway.fetcher,
  });
  if (result.ok) return new Response(result.response.body, result.response);
  return Response.json({ error: { code: result.code, message: "origin unavailable" } }, { status: 502 });
}
