/**
 * The Hono app: the JWKS, the admin area (/__riskgate), the scored reset routes from
 * the rule file, and a pass-through for every other path. Errors become responses only
 * in `onError`.
 */
import { Hono } from "hono";
import { act } from "./reset/act.ts";
import { ADMIN_BASE, adminRoutes } from "./admin/routes.ts";
import { recordRequest, requestIdFrom } from "./reset/record.ts";
import { readCaptchaRequest } from "./captcha/request.ts";
import { withDeviceCookie } from "./context/device-cookie.ts";
import { type ClientIp, clientIp } from "./context/client-ip.ts";
import { buildContext } from "./context/index.ts";
import type { WorkerEnv } from "./gateway/env.ts";
import { errorResponse, RiskgateError } from "./shared/errors.ts";
import { recordExperiment } from "./scoring/experiments/record.ts";
import type { Gateway } from "./gateway/gateway.ts";
import { forward } from "./origin/forward.ts";
import { handleOutcome } from "./outcomes/index.ts";
import { decide } from "./reset/decide.ts";
import { type AddressKeys, screen } from "./reset/screen.ts";
import { matchRoute } from "./reset/match.ts";
import type { AuditInput } from "./audit/events.ts";
import { rateLimitedResponse } from "./challenge/response.ts";
import type { PenaltyUpdate } from "./store/port.ts";

type AppEnv = { Bindings: WorkerEnv; Variables: { gateway: Gateway } };

/** Build the app; `load` supplies the per-isolate gateway (tests pass their own). */
export function createApp(load: (env: WorkerEnv) => Promise<Gateway>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async function loadGateway(c, next) {
    c.set("gateway", await load(c.env));
    await next();
  });

  app.get("/.well-known/jwks.json", (c) =>
    c.json({ keys: c.var.gateway.keys.publicJwks }, 200, { "cache-control": "public, max-age=300" }),
  );

  app.post("/v1/outcomes", (c) => handleOutcome(c.req.raw, c.var.gateway, c.executionCtx));

  // The admin area (dashboard, metrics, audit API); every path behind admin auth.
  app.route(ADMIN_BASE, adminRoutes());

  app.all("*", async function route(c) {
    const gateway = c.var.gateway;
    // Percent-decoded by Hono, then matched leniently (src/reset/match.ts): no bypass by spelling.
    const route = matchRoute(gateway.ruleset.spec.routes, c.req.path);
    if (route === undefined) return passThrough(c.req.raw, gateway);
    if (c.req.method !== route.method) {
      throw new RiskgateError("ERR_METHOD_NOT_ALLOWED", `use ${route.method}`, { allow: route.method });
    }
    const started = gateway.now();
    const ip = clientIp(c.req.raw.headers, gateway.config.trustedIpHeader);
    const { refused, addressKeys } = await screenRequest(ip, gateway, route.path, started);
    if (refused !== null) {
      const { reported } = refused;
      if (reported !== null) c.executionCtx.waitUntil(reported.then((events) => gateway.audit.emit(...events)));
      return refused.response;
    }
    const ctx = await buildContext(c.req.raw, route, {
      hasher: gateway.hasher,
      now: started,
      trustedIpHeader: gateway.config.trustedIpHeader,
      bodyLimit: gateway.ruleset.spec.limits.body_bytes,
      userAgentLimit: gateway.ruleset.spec.limits.user_agent_chars,
      geo: gateway.geo,
      address: { ip, keys: addressKeys },
    });
    const captchaRequest =
      gateway.captcha === null ? null : readCaptchaRequest(c.req.raw, ctx.fields, gateway.captcha.config.profile.field);
    const decided = await decide(ctx, gateway, captchaRequest);
    const { decision, shadowReasons, facts, candidate, storeMs } = decided;
    const result = await act(c.req.raw, ctx, decision, gateway, decided);
    withDeviceCookie(result.response, ctx.device.cookie);
    // Experiment exposure and guardrail refresh: after the response, never before it.
    c.executionCtx.waitUntil(recordExperiment(gateway, decision, ctx.now));
    const ms = gateway.now() - started;
    // Record stage, after the response: penalty boxes of ladders whose 429 step bit, the
    // decision log line and the audit events cost the client nothing.
    c.executionCtx.waitUntil(penalize(gateway, decided.penalize));
    c.executionCtx.waitUntil(
      Promise.resolve().then(() =>
        recordRequest(gateway, {
          requestId: requestIdFrom(c.req.raw.headers, gateway.newId),
          method: c.req.method,
          ctx,
          decision,
          shadowReasons,
          facts,
          candidate,
          storeName: gateway.store.name,
          storeMs,
          result,
          originUrl: gateway.config.originUrl,
          ms,
          rateLimits: decided.ladders
            .filter((l) => l.step !== "allow" || l.waived)
            .map((l) => ({ name: l.name, step: l.step, waived: l.waived, level: l.level })),
          captcha: decided.captcha.status === "none" ? null : decided.captcha,
          ladders: decided.ladders,
          captchaProvider: gateway.captcha?.config.profile.name ?? null,
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

/** The screen stage: a 429 for a client this isolate knows to be blocked, and the address keys it hashed. */
async function screenRequest(
  ip: ClientIp | null,
  gateway: Gateway,
  path: string,
  now: number,
): Promise<{
  refused: { response: Response; reported: Promise<readonly AuditInput[]> | null } | null;
  addressKeys: AddressKeys | null;
}> {
  const deps = { hasher: gateway.hasher, store: gateway.store, boxes: gateway.boxes, ladders: gateway.ruleset.ladders };
  const { refusal, keys } = await screen(ip, deps, now);
  if (refusal === null) return { refused: null, addressKeys: keys };
  const tier = gateway.ruleset.tiers[0]?.name ?? "unknown";
  const { id, reported } = gateway.refusals.add(refusal, path, tier, now);
  return { refused: { response: rateLimitedResponse({ id, retryAfter: refusal.retryAfterS }), reported }, addressKeys: keys };
}

/** Apply penalty escalations; a failure is logged (the next violation escalates again). */
async function penalize(gateway: Gateway, updates: readonly PenaltyUpdate[]): Promise<void> {
  for (const update of updates) {
    try {
      await gateway.store.penalize(update);
    } catch (err) {
      console.error(JSON.stringify({ type: "riskgate.penalize_failed", code: (err as { code?: unknown }).code ?? "STORE_UNAVAILABLE" }));
    }
  }
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
