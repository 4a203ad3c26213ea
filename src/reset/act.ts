/**
 * The act stage: turn a decision into the client's response, forwarding allowed
 * requests to the origin with a signed decision. Responses on the reset route never
 * reveal whether the account exists.
 */
import type { CaptchaState, PreparedCaptcha } from "../captcha/gate.ts";
import { challengeResponse, rateLimitedResponse, uniformHtmlResponse, withPass } from "../challenge/response.ts";
import type { RequestContext } from "../context/index.ts";
import type { Decision } from "../shared/decision.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { DECISION_HEADER, signDecision } from "../origin/decision-token.ts";
import { forward, type OriginResult } from "../origin/forward.ts";
import { DECISION_ID_HEADER, type ForwardJob } from "./forward-job.ts";
import { seenClaims } from "../outcomes/claims.ts";

/** The uniform body for every accepted, denied or failed reset. */
export const UNIFORM_BODY = {
  status: "accepted",
  message: "If an account matches, password reset instructions are on their way.",
} as const;

/** What happened, for the log. */
export interface ActResult {
  readonly response: Response;
  readonly action: "forwarded" | "silent_deny" | "challenge" | "rate_limited";
  /** The origin's answer when the client waited for it (`respond: origin`). */
  readonly origin: OriginResult | null;
  /** The forward still to run after the response (`respond: uniform`). */
  readonly job: ForwardJob | null;
}

const UNIFORM_JSON = JSON.stringify(UNIFORM_BODY);
/** Made on first use (inside a request) and copied into every 202, which gets its own. */
let uniformHeaders: Headers | null = null;

/**
 * The uniform 202: Response.json's bytes and headers, from a body serialised once and a
 * prepared header set (as the 429 in src/challenge/response.ts), not per allowed reset.
 */
export function uniformResponse(): Response {
  uniformHeaders ??= new Headers({ "content-type": "application/json", "cache-control": "no-store" });
  return new Response(UNIFORM_JSON, { status: 202, headers: uniformHeaders });
}

/**
 * The uniform answer for this request: JSON, or for a browser's form post (a form body
 * and Accept: text/html, as the challenge page resubmits) a page a person can read, or
 * the route's `after_challenge` redirect. Which one depends on the request only, never
 * on the decision.
 */
export function uniformFor(request: Request, ctx: RequestContext): Response {
  const browserForm = ctx.fields.type === "form" && (request.headers.get("accept") ?? "").toLowerCase().includes("text/html");
  return browserForm ? uniformHtmlResponse(UNIFORM_BODY.message, ctx.route) : uniformResponse();
}

/** The CAPTCHA step's part in the response (challenge details, a pass to issue). */
export interface ActCaptcha {
  readonly prepared: PreparedCaptcha | null;
  readonly captcha: CaptchaState;
}

/** Respond to the client according to the decision. */
export async function act(
  request: Request,
  ctx: RequestContext,
  decision: Decision,
  gateway: Gateway,
  captcha: ActCaptcha = { prepared: null, captcha: { status: "none" } },
): Promise<ActResult> {
  if (decision.verdict === "deny" && decision.retryAfter !== undefined) {
    return { response: rateLimitedResponse(decision), action: "rate_limited", origin: null, job: null };
  }
  if (decision.verdict === "deny") {
    // Silent deny: the attacker sees exactly what a real user sees.
    return { response: uniformFor(request, ctx), action: "silent_deny", origin: null, job: null };
  }
  if (decision.verdict === "challenge") {
    const response = challengeResponse(decision, {
      config: gateway.config.captcha,
      action: gateway.ruleset.captcha.action,
      route: ctx.route,
      ...captcha,
    });
    return { response, action: "challenge", origin: null, job: null };
  }
  const forwarded = await forwardAllowed(request, ctx, decision, gateway);
  // A token was verified just now: a pass spares this IP and account the next challenge.
  if (captcha.captcha.status === "passed" && captcha.captcha.via === "token" && captcha.prepared !== null) {
    const pass = await gateway.captcha?.issuePass(captcha.prepared.binding, ctx.now);
    if (pass !== undefined) withPass(forwarded.response, pass, ctx.route, gateway.ruleset.captcha.passTtlMs, new URL(request.url).protocol === "https:");
  }
  return forwarded;
}

async function forwardAllowed(request: Request, ctx: RequestContext, decision: Decision, gateway: Gateway): Promise<ActResult> {
  const job: ForwardJob = {
    method: request.method,
    url: request.url,
    headers: [...request.headers],
    body: ctx.body as Uint8Array,
    clientIp: ctx.ip?.address ?? null,
    decision,
    accountKey: ctx.accountKey,
    extra: { seen: seenClaims(ctx) },
    requestId: "",
    at: ctx.now,
    respond: ctx.route.respond,
  };
  if (ctx.route.respond === "origin") {
    // The documented opt-out: the client waits for the origin and gets its answer, so
    // the origin's timing (and a 502 when it is down) shows; one attempt, no retry.
    const token = await signDecision(decision, ctx.accountKey, gateway.config.originUrl.origin, gateway.keys, Math.floor(gateway.now() / 1000), job.extra);
    const origin = await forward(request, ctx.body as Uint8Array<ArrayBuffer>, { [DECISION_HEADER]: token, [DECISION_ID_HEADER]: decision.id }, {
      originUrl: gateway.config.originUrl,
      clientIp: job.clientIp,
      timeoutMs: gateway.ruleset.originTimeoutMs,
      fetcher: gateway.fetcher,
    });
    const response = origin.ok
      ? new Response(origin.response.body, origin.response)
      : Response.json({ error: { code: origin.code, message: "origin unavailable" } }, { status: 502 });
    return { response, action: "forwarded", origin, job: null };
  }
  // The client gets the uniform 202 now, before the origin is asked: a forwarded reset,
  // a silent deny and a failing origin all answer alike (src/reset/deliver.ts). The
  // record stage runs the job inside waitUntil.
  return { response: uniformFor(request, ctx), action: "forwarded", origin: null, job };
}
