/**
 * The client responses of the ladder and the CAPTCHA step: a `403` challenge (JSON for
 * API clients, an HTML page with the widget for browsers) and a `429` with
 * `Retry-After`. Neither depends on whether the account exists.
 */
import type { CaptchaConfig } from "../captcha/config.ts";
import type { CaptchaState, PreparedCaptcha } from "../captcha/gate.ts";
import { PASS_COOKIE, PASS_HEADER, TOKEN_HEADER } from "../captcha/provider.ts";
import type { Decision } from "../shared/decision.ts";
import type { RouteSpec } from "../scoring/rules/schema.ts";
import { acceptedPage, challengePage } from "./page.ts";

/** What a challenge needs besides the decision. */
export interface ChallengeInput {
  readonly config: CaptchaConfig | null;
  /** The widget action from the rule file. */
  readonly action: string;
  readonly prepared: PreparedCaptcha | null;
  readonly captcha: CaptchaState;
  readonly route: RouteSpec;
}

/** The machine-readable challenge: what to render and how to resubmit. */
export function challengeBody(decision: Decision, input: ChallengeInput): Record<string, unknown> {
  const { config, prepared, route } = input;
  const rejected = input.captcha.status === "failed" || input.captcha.status === "error";
  if (config === null) {
    return { status: "challenge", decision: decision.id, challenge: { type: "captcha", provider: "none", retry: rejected } };
  }
  const { profile } = config;
  return {
    status: "challenge",
    decision: decision.id,
    challenge: {
      type: "captcha",
      provider: profile.name,
      site_key: config.siteKey,
      ...(profile.action ? { action: input.action } : {}),
      ...(profile.cdata && prepared !== null ? { cdata: prepared.cdata } : {}),
      script: config.scriptUrl,
      // Resubmit the same request with the widget's token in `field` (or the header).
      resubmit: { method: route.method, path: route.path, field: profile.field, header: TOKEN_HEADER },
      // true when a token was presented and not accepted (solve the widget again).
      retry: rejected,
    },
  };
}

function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The page's Content-Security-Policy: nonce'd scripts plus the widget's origins. */
export function pageCsp(nonce: string, config: CaptchaConfig): string {
  const origins = [...new Set([new URL(config.scriptUrl).origin, ...config.profile.cspOrigins])].join(" ");
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' ${origins}`,
    `style-src 'nonce-${nonce}' ${origins}`,
    `frame-src ${origins}`,
    `connect-src 'self' ${origins}`,
    `img-src 'self' data: ${origins}`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const NO_STORE = { "cache-control": "no-store", "referrer-policy": "no-referrer", "x-content-type-options": "nosniff" };

/** A `403` challenge: HTML for browsers that asked for it (and can resubmit), JSON otherwise. */
export function challengeResponse(decision: Decision, input: ChallengeInput): Response {
  const { config, prepared } = input;
  if (config === null || prepared === null || !prepared.request.wantsHtml) {
    return Response.json(challengeBody(decision, input), { status: 403, headers: NO_STORE });
  }
  const nonce = randomNonce();
  const html = challengePage({
    nonce,
    scriptUrl: config.scriptUrl,
    global: config.profile.global,
    siteKey: config.siteKey,
    action: config.profile.action ? input.action : "",
    cdata: config.profile.cdata ? prepared.cdata : "",
    field: config.profile.field,
    method: input.route.method,
    path: input.route.path,
    original: prepared.request.original,
    retry: input.captcha.status === "failed" || input.captcha.status === "error",
  });
  return new Response(html, {
    status: 403,
    headers: { ...NO_STORE, "content-type": "text/html; charset=utf-8", "content-security-policy": pageCsp(nonce, config) },
  });
}

/** The 429's headers per `Retry-After` value, built once: a Response copies a Headers natively. */
const rateLimitedHeaders = new Map<number, Headers>();
/** Distinct `Retry-After` values kept (a flood's value falls by one a second, so few are live). */
const RATE_LIMITED_HEADERS_KEPT = 64;

function rateLimitedHeadersFor(retryAfter: number): Headers {
  let headers = rateLimitedHeaders.get(retryAfter);
  if (headers === undefined) {
    if (rateLimitedHeaders.size >= RATE_LIMITED_HEADERS_KEPT) rateLimitedHeaders.clear();
    headers = new Headers({ ...NO_STORE, "content-type": "application/json", "retry-after": String(retryAfter) });
    rateLimitedHeaders.set(retryAfter, headers);
  }
  return headers;
}

/** A `429`: the ladder refused the request; `Retry-After` says when a retry can succeed. */
export function rateLimitedResponse(decision: Pick<Decision, "id" | "retryAfter">): Response {
  const retryAfter = Math.max(1, decision.retryAfter ?? 1);
  // new Response over Response.json: the same bytes, at half the cost in workerd (a flood
  // of refused requests is answered here); the headers are copied from a prepared set,
  // never shared (the Response gets its own copy, which a caller may change).
  const body = JSON.stringify({ status: "rate_limited", decision: decision.id, retry_after: retryAfter });
  return new Response(body, { status: 429, headers: rateLimitedHeadersFor(retryAfter) });
}

/** Attach a fresh pass: a cookie for browsers, a header for API clients. */
export function withPass(response: Response, pass: string, route: RouteSpec, ttlMs: number, secure: boolean): Response {
  const attributes = [`${PASS_COOKIE}=${pass}`, `Path=${route.path}`, `Max-Age=${Math.floor(ttlMs / 1000)}`, "HttpOnly", "SameSite=Strict"];
  // `Secure` everywhere but plain-http development (browsers drop Secure cookies from http hosts other than localhost).
  if (secure) attributes.push("Secure");
  response.headers.append("set-cookie", attributes.join("; "));
  response.headers.set(PASS_HEADER, pass);
  return response;
}

/**
 * The uniform answer for a browser's form post: a 303 to the route's `after_challenge`
 * path when it has one, else the message as a page (status 202, as the JSON answer).
 */
export function uniformHtmlResponse(message: string, route: RouteSpec): Response {
  if (route.after_challenge !== undefined) {
    return new Response(null, { status: 303, headers: { ...NO_STORE, location: route.after_challenge } });
  }
  return new Response(acceptedPage(message), {
    status: 202,
    headers: {
      ...NO_STORE,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    },
  });
}
