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
  readonly origin: OriginResult | null;
}

/** The uniform 202. */
export function uniformResponse(): Response {
  return Response.json(UNIFORM_BODY, { status: 202, headers: { "cache-control": "no-store" } });
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
    return { response: rateLimitedResponse(decision), action: "rate_limited", origin: null };
  }
  if (decision.verdict === "deny") {
    // Silent deny: the attacker sees exactly what a real user sees.
    return { response: uniformFor(request, ctx), action: "silent_deny", origin: null };
  }
  if (decision.verdict === "challenge") {
    const response = challengeResponse(decision, {
      config: gateway.config.captcha,
      action: gateway.ruleset.captcha.action,
      route: ctx.route,
      ...captcha,
    });
    return { response, action: "challenge", origin: null };
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
  const token = await signDecision(
    decision,
    ctx.accountKey,
    gateway.config.originUrl.origin,
    gateway.keys,
    Math.floor(gateway.now() / 1000),
    { seen: seenClaims(ctx) },
  );
  const origin = await forward(request, ctx.body as Uint8Array<ArrayBuffer>, { [DECISION_HEADER]: token }, {
    originUrl: gateway.config.originUrl,
    clientIp: ctx.ip?.address ?? null,
    timeoutMs: gateway.ruleset.originTimeoutMs,
    fetcher: gateway.fetcher,
  });
  if (ctx.route.respond === "origin") {
    const response = origin.ok
      ? new Response(origin.response.body, origin.response)
      : Response.json({ error: { code: origin.code, message: "origin unavailable" } }, { status: 502 });
    return { response, action: "forwarded", origin };
  }
  // The client gets the uniform 202. The origin's body is read to its end, not
  // cancelled: a cancelled body closes the connection, and every reset then paid a new
  // TCP (in production TLS) handshake to the origin (npm run bench, BENCHMARKS.md).
  if (origin.ok) await drain(origin.response.body);
  return { response: uniformFor(request, ctx), action: "forwarded", origin };
}

/** Read a body to its end without keeping it; an origin that aborts mid-body is ignored. */
async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (body === null) return;
  const reader = body.getReader();
  try {
    for (;;) {
      if ((await reader.read()).done) return;
    }
  } catch {
    // The origin went away mid-body: its answer was already logged; the client's is fixed.
  }
}
