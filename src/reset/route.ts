/**
 * The reset route, one call per stage in the order they run (docs/architecture.md):
 * match (src/app.ts, src/reset/match.ts) → screen → context → decide → act → record.
 * The record stage runs after the response, inside waitUntil.
 *
 * Timing (docs/architecture.md, "Why the reset answers at a fixed floor"): every answer
 * after the screen stage leaves at the floor (RESET_RESPONSE_FLOOR_MS after the request
 * came in, a timer that costs no CPU), and the work that differs by verdict (signing and
 * forwarding, the record stage) starts only after the answer, so a forwarded, a slow-origin
 * and a silently denied reset take the same time.
 */
import type { AuditInput } from "../audit/events.ts";
import { readCaptchaRequest } from "../captcha/request.ts";
import { rateLimitedResponse } from "../challenge/response.ts";
import { type ClientIp, clientIp } from "../context/client-ip.ts";
import { withDeviceCookie } from "../context/device-cookie.ts";
import type { AddressKeys, RequestContext } from "../context/index.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { recordExperiment } from "../scoring/experiments/record.ts";
import type { RouteSpec } from "../scoring/rules/schema.ts";
import { RiskgateError } from "../shared/errors.ts";
import type { PenaltyUpdate } from "../store/port.ts";
import { type ActResult, act } from "./act.ts";
import { buildContext } from "./context.ts";
import { decide, type PipelineResult } from "./decide.ts";
import { deliverInRequest } from "./deliver.ts";
import { recordRequest, requestIdFrom } from "./record.ts";
import { screen } from "./screen.ts";

/** Score one request to a matched reset route and answer it. */
export async function resetRoute(request: Request, route: RouteSpec, gateway: Gateway, exec: Pick<ExecutionContext, "waitUntil">): Promise<Response> {
  if (request.method !== route.method) {
    throw new RiskgateError("ERR_METHOD_NOT_ALLOWED", `use ${route.method}`, { allow: route.method });
  }
  const started = gateway.now();
  // Started first, so it counts from the request's arrival (workerd's clock stands still
  // while JavaScript runs; a timer set here fires `floorMs` after the request came in).
  const floor = answerFloor(gateway.config.resetResponseFloorMs);
  const ip = clientIp(request.headers, gateway.config.trustedIpHeader, gateway.config.trustedProxyHops);
  const { refused, addressKeys } = await screenRequest(ip, gateway, route.path, started);
  if (refused !== null) {
    // A refused client reloads the live copy too: an operator's lift must reach an isolate that only refuses.
    const reload = gateway.liveLists.refresh(started);
    if (reload !== null) exec.waitUntil(reload);
    const { reported } = refused;
    if (reported !== null) exec.waitUntil(reported.then((events) => gateway.audit.emit(...events)));
    return refused.response;
  }
  const ctx = await buildContext(request, route, {
    hasher: gateway.hasher,
    now: started,
    trustedIpHeader: gateway.config.trustedIpHeader,
    bodyLimit: gateway.ruleset.spec.limits.body_bytes,
    userAgentLimit: gateway.ruleset.spec.limits.user_agent_chars,
    geo: gateway.geo,
    address: { ip, keys: addressKeys },
  });
  const captchaRequest =
    gateway.captcha === null ? null : readCaptchaRequest(request, ctx.fields, gateway.captcha.config.profile.field);
  const decided = await decide(ctx, gateway, captchaRequest);
  // The live lists copy reloads after the response when it is stale (never on the request path).
  const reload = gateway.liveLists.refresh(started);
  if (reload !== null) exec.waitUntil(reload);
  const result = await act(request, ctx, decided.decision, gateway, decided);
  withDeviceCookie(result.response, ctx.device.cookie);
  const ms = gateway.now() - started;
  await floor;
  // The record stage (with the forward) starts one floor after the answer: nothing that
  // depends on the verdict runs while the client is still receiving it (measured: a forward
  // started at once, whose origin answered at once, slowed the client's read by ~25 ms).
  exec.waitUntil(answerFloor(gateway.config.resetResponseFloorMs).then(() => record(request, ctx, decided, result, gateway, exec, ms)));
  return result.response;
}

/** Resolves `ms` after now, on a timer (no CPU spent waiting); at once for 0. */
function answerFloor(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
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

/**
 * The record stage, after the response: the forward to the origin (with its retries),
 * experiment exposure (forwarded resets only) and guardrail refresh,
 * penalty boxes of ladders whose 429 step bit, the decision log line and the audit
 * events cost the client nothing.
 */
function record(
  request: Request,
  ctx: RequestContext,
  decided: PipelineResult,
  result: ActResult,
  gateway: Gateway,
  exec: Pick<ExecutionContext, "waitUntil">,
  ms: number,
): void {
  const { decision, shadowReasons, facts, candidate, storeMs } = decided;
  exec.waitUntil(recordExperiment(gateway, decision, ctx.now, result.action === "forwarded"));
  exec.waitUntil(penalize(gateway, decided.penalize));
  const requestId = requestIdFrom(request.headers, gateway.newId);
  // The forward of an allowed reset runs here, after the response (src/reset/deliver.ts);
  // the request's events follow it, so its `forward` event names the final outcome.
  const job = result.job === null ? null : { ...result.job, requestId };
  exec.waitUntil(
    (job === null ? Promise.resolve(null) : deliverInRequest(job, gateway, gateway.resetQueue)).then((forward) =>
      recordRequest(gateway, {
        requestId,
        forward,
        method: request.method,
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
}

/**
 * Apply penalty escalations; a failure is logged and the escalation kept in this
 * isolate's local counters, which stand in for the store while it is down.
 */
async function penalize(gateway: Gateway, updates: readonly PenaltyUpdate[]): Promise<void> {
  for (const update of updates) {
    try {
      await gateway.store.penalize(update);
    } catch (err) {
      gateway.fallback.penalize(update);
      console.error(JSON.stringify({ type: "riskgate.penalize_failed", code: (err as { code?: unknown }).code ?? "STORE_UNAVAILABLE", fallback: "local-counters" }));
    }
  }
}
