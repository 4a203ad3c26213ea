// Shared helpers for worker tests of signals and outcomes: requests through the
// Worker's fetch, the demo origin's view of them, and outcome reports signed like an
// origin would sign them.
import { exports } from "cloudflare:workers";
import { env } from "cloudflare:test";
import { importJWK, SignJWT } from "jose";
import { buildContext } from "../../src/reset/context.ts";
import type { WorkerEnv as Env } from "../../src/gateway/env.ts";
import { createGateway } from "../../src/gateway/gateway.ts";
import { DEV_OUTCOME_SIGNING_KEY } from "../../src/outcomes/keys.ts";
import { decide } from "../../src/reset/decide.ts";
import type { Facts } from "../../src/scoring/rules/context-schema.ts";

export const GATEWAY = "https://gateway.test";
export const CHROME_UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

/** Headers a real Chrome 130 on Windows sends with a fetch() to a secure origin. */
export const CHROME_HEADERS: Record<string, string> = {
  "user-agent": CHROME_UA,
  accept: "application/json",
  "accept-language": "en-GB,en;q=0.9",
  "sec-ch-ua": '"Chromium";v="130", "Google Chrome";v="130", "Not?A_Brand";v="99"',
  "sec-ch-ua-mobile": "?0",
  "sec-ch-ua-platform": '"Windows"',
  "sec-fetch-mode": "cors",
  "sec-fetch-site": "same-origin",
  "sec-fetch-dest": "empty",
};

let build = 0;

/**
 * A reset request as the Worker receives it; `x-test-id` lets us find it at the origin.
 * Each request gets its own Chrome build number, so requests without a device cookie
 * are different devices (otherwise every test would share one fingerprint and trip the
 * per-device velocity rules, as a real shared fingerprint should).
 */
export function resetRequest(email: string, headers: Record<string, string> = {}): Request {
  const ua = CHROME_UA.replace("130.0.0.0", `130.0.${++build}.${Math.floor(Math.random() * 1000)}`);
  // The platform always names the client; each request is its own (RFC 2544 range) address
  // unless the test gives one, so tests meet the IP ladders only when they mean to.
  const ip = `198.18.${build % 250}.${1 + Math.floor(Math.random() * 250)}`;
  return new Request(`${GATEWAY}/password/reset`, {
    method: "POST",
    headers: { "content-type": "application/json", ...CHROME_HEADERS, "user-agent": ua, "cf-connecting-ip": ip, "x-test-id": crypto.randomUUID(), ...headers },
    body: JSON.stringify({ email }),
  });
}

/** What the demo origin recorded for one forwarded request. */
export interface Received {
  accepted: boolean;
  claims?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** How long reset() waits for a 202's forward to reach the origin (a backstop: a forwarded request ends the wait). */
export const FORWARD_WAIT_MS = 15_000;

/** The demo origin's record of the request tagged `id` (the first one it accepted, else the first), or null. */
export async function receivedBy(id: string | null, originUrl: string = env.ORIGIN_URL): Promise<Received | null> {
  const log = ((await (await fetch(`${originUrl}/__demo/received`)).json()) as { received: Received[] }).received;
  const mine = log.filter((r) => r.headers?.["x-test-id"] === id);
  return mine.find((r) => r.accepted) ?? mine[0] ?? null;
}

/**
 * Wait for the forward of a reset answered 202 (it runs after the response): polls the
 * origin until it accepted the request tagged `id`, or FORWARD_WAIT_MS passed (a silent
 * deny, which is never forwarded). Returns what the origin recorded, or null.
 */
export async function forwardOf(id: string | null, originUrl: string = env.ORIGIN_URL): Promise<Received | null> {
  const deadline = Date.now() + FORWARD_WAIT_MS;
  for (;;) {
    const origin = await receivedBy(id, originUrl);
    if (origin?.accepted === true || Date.now() > deadline) return origin;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Send a reset through the Worker; returns the response and what the origin saw (null: not
 * forwarded). The forward runs after the response (src/reset/deliver.ts), so for a 202
 * this polls the origin until the request arrives; only a 202 that never arrives (a silent
 * deny) waits the whole FORWARD_WAIT_MS. Other statuses are never forwarded.
 */
export async function reset(email: string, headers: Record<string, string> = {}): Promise<{ res: Response; origin: Received | null }> {
  const req = resetRequest(email, headers);
  const id = req.headers.get("x-test-id");
  const res = await exports.default.fetch(req);
  return { res, origin: res.status === 202 ? await forwardOf(id) : await receivedBy(id) };
}

/** The reason codes the origin received for a forwarded request. */
export function reasonsOf(origin: Received | null): string[] {
  if (origin === null) throw new Error("request was not forwarded");
  return (origin.claims?.reasons as string[] | undefined) ?? [];
}

/** The device cookie to send back, from a response's Set-Cookie. */
export function cookieFrom(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  const pair = set.split(";")[0] ?? "";
  if (!pair.startsWith("__Host-riskgate-device=")) throw new Error(`no device cookie in ${JSON.stringify(set)}`);
  return pair;
}

/** The facts and decision for a request, through the same gateway the Worker builds (real DO store). */
export async function factsFor(request: Request, overrides: Partial<Env> = {}): Promise<{ facts: Facts; reasons: string[] }> {
  const gateway = await createGateway({ ...(env as unknown as Env), ...overrides });
  const route = gateway.ruleset.spec.routes[0];
  if (route === undefined) throw new Error("no route");
  const ctx = await buildContext(request, route, {
    hasher: gateway.hasher,
    now: gateway.now(),
    trustedIpHeader: gateway.config.trustedIpHeader,
    bodyLimit: gateway.ruleset.spec.limits.body_bytes,
    userAgentLimit: gateway.ruleset.spec.limits.user_agent_chars,
    geo: gateway.geo,
  });
  const { decision, facts } = await decide(ctx, gateway);
  return { facts, reasons: decision.reasons.map((r) => r.code) };
}

/** Sign an outcome report as the origin does (the development origin key by default). */
export async function signOutcome(
  claims: Record<string, unknown>,
  options: { key?: typeof DEV_OUTCOME_SIGNING_KEY; typ?: string; aud?: string; iat?: number } = {},
): Promise<string> {
  const jwk = options.key ?? DEV_OUTCOME_SIGNING_KEY;
  const key = await importJWK(jwk, "ES256");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: jwk.kid ?? "", typ: options.typ ?? "riskgate-outcome+jwt" })
    .setAudience(options.aud ?? "riskgate")
    .setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
    .sign(key);
}

/** POST an outcome report to the Worker. */
export function postOutcome(body: string, contentType = "application/jwt"): Promise<Response> {
  return exports.default.fetch(`${GATEWAY}/v1/outcomes`, { method: "POST", headers: { "content-type": contentType }, body });
}

/** Report an outcome for a forwarded request. */
export async function report(origin: Received | null, event: string, eventId: string = crypto.randomUUID()): Promise<Response> {
  if (origin === null) throw new Error("request was not forwarded");
  const token = origin.headers?.["riskgate-decision"] ?? "";
  return postOutcome(await signOutcome({ jti: eventId, event, decision_id: origin.claims?.jti, decision: token }));
}

/** The hashed cookie device the decision's `seen` claim carries. */
export function deviceOf(origin: Received | null): string {
  const seen = origin?.claims?.seen as { dev?: unknown } | undefined;
  if (typeof seen?.dev !== "string") throw new Error("no seen.dev claim");
  return seen.dev;
}
