/**
 * Server-side token verification (siteverify). A token proves nothing until the
 * provider says so, and then only if it was solved on our hostname, for our action,
 * for this account (Turnstile's `cdata`), recently. Every call has a timeout; a
 * transient failure is retried once with the same `idempotency_key` (Turnstile then
 * answers the retry as it answered the first call instead of "already spent").
 * Failures are typed: a rejected token is the client's problem (`dependency: false`),
 * an unreachable or misconfigured provider is ours, and the rule file's
 * `fail_modes.captcha` decides what follows.
 */
import type { CaptchaCode } from "../shared/captcha.ts";
import type { ProviderProfile } from "./provider.ts";

export type { CaptchaCode } from "../shared/captcha.ts";

/** The outcome of verifying one token. */
export type VerifyResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: CaptchaCode; readonly dependency: boolean };

/** What the token must have been solved for. */
export interface Expected {
  readonly hostnames: readonly string[];
  readonly action: string;
  readonly cdata: string;
}

/** One verification. */
export interface VerifyInput {
  readonly token: string;
  /** The client IP, passed as `remoteip` (the provider's own replay and abuse checks use it). */
  readonly remoteIp: string | null;
  readonly expected: Expected;
  readonly now: number;
}

/** How to reach the provider. */
export interface SiteverifyOptions {
  readonly profile: ProviderProfile;
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly maxAgeMs: number;
  readonly fetcher: typeof fetch;
  /** A fresh idempotency key (a UUID) per token. */
  readonly newKey: () => string;
}

/** Turnstile's documented limit on a response token. */
export const MAX_TOKEN_LENGTH = 2048;
/** Clock skew tolerated on `challenge_ts` in the future. */
const FUTURE_SKEW_MS = 60_000;

const fail = (code: CaptchaCode, dependency: boolean): VerifyResult => ({ ok: false, code, dependency });

/** An attempt that should be retried (with the same idempotency key), or a final answer. */
type Attempt = { readonly retry: true; readonly code: CaptchaCode } | { readonly retry: false; readonly result: VerifyResult };

/** Verify `input.token`, retrying transient failures up to `attempts` calls in all. */
export async function siteverify(options: SiteverifyOptions, input: VerifyInput): Promise<VerifyResult> {
  if (input.token.length === 0 || input.token.length > MAX_TOKEN_LENGTH) return fail("CAPTCHA_INVALID", false);
  const key = options.profile.idempotency ? options.newKey() : null;
  let last: CaptchaCode = "CAPTCHA_UNAVAILABLE";
  for (let attempt = 0; attempt < options.attempts; attempt++) {
    const outcome = await callOnce(options, input, key);
    if (!outcome.retry) return outcome.result;
    last = outcome.code;
    // Without an idempotency key a retry would be answered "already spent": do not retry.
    if (key === null) break;
  }
  return fail(last, true);
}

async function callOnce(options: SiteverifyOptions, input: VerifyInput, key: string | null): Promise<Attempt> {
  const body = new URLSearchParams({ secret: options.secret, response: input.token });
  if (input.remoteIp !== null) body.set("remoteip", input.remoteIp);
  if (key !== null) body.set("idempotency_key", key);
  let text: string;
  let status: number;
  try {
    const res = await options.fetcher(options.url, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const name = (err as { name?: unknown } | null)?.name;
    const timedOut = name === "TimeoutError" || name === "AbortError";
    return { retry: true, code: timedOut ? "CAPTCHA_TIMEOUT" : "CAPTCHA_UNAVAILABLE" };
  }
  if (status >= 500) return { retry: true, code: "CAPTCHA_UNAVAILABLE" };
  const reply = parseReply(text);
  if (reply === null) return { retry: false, result: fail("CAPTCHA_BAD_RESPONSE", true) };
  return judge(reply, options, input);
}

/** The fields of a siteverify reply that matter. */
export interface Reply {
  readonly success: boolean;
  readonly errorCodes: readonly string[];
  readonly hostname: string | null;
  readonly action: string | null;
  readonly cdata: string | null;
  readonly challengeTs: string | null;
}

/** Parse a reply strictly: anything but an object with a boolean `success` is null. */
export function parseReply(text: string): Reply | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof json !== "object" || json === null) return null;
  const r = json as Record<string, unknown>;
  if (typeof r.success !== "boolean") return null;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const codes = Array.isArray(r["error-codes"]) ? r["error-codes"].filter((c): c is string => typeof c === "string") : [];
  return { success: r.success, errorCodes: codes, hostname: str(r.hostname), action: str(r.action), cdata: str(r.cdata), challengeTs: str(r.challenge_ts) };
}

/** Error codes of the three providers, by what they mean for us. */
const REJECTED_CODES: Readonly<Record<string, CaptchaCode>> = {
  "timeout-or-duplicate": "CAPTCHA_DUPLICATE",
  "already-seen-response": "CAPTCHA_DUPLICATE",
  "invalid-or-already-seen-response": "CAPTCHA_DUPLICATE",
  "expired-input-response": "CAPTCHA_DUPLICATE",
  "invalid-input-response": "CAPTCHA_INVALID",
  "missing-input-response": "CAPTCHA_INVALID",
};
const CONFIG_CODES = new Set(["missing-input-secret", "invalid-input-secret", "bad-request", "sitekey-secret-mismatch"]);

function judge(reply: Reply, options: SiteverifyOptions, input: VerifyInput): Attempt {
  if (!reply.success) {
    if (reply.errorCodes.includes("internal-error")) return { retry: true, code: "CAPTCHA_UNAVAILABLE" };
    const config = reply.errorCodes.find((c) => CONFIG_CODES.has(c));
    if (config !== undefined) return { retry: false, result: fail("CAPTCHA_MISCONFIGURED", true) };
    const known = reply.errorCodes.map((c) => REJECTED_CODES[c]).find((c) => c !== undefined);
    return { retry: false, result: fail(known ?? "CAPTCHA_INVALID", false) };
  }
  return { retry: false, result: checkClaims(reply, options, input) };
}

/** A successful reply must match what we asked the widget for. */
function checkClaims(reply: Reply, options: SiteverifyOptions, input: VerifyInput): VerifyResult {
  const { expected } = input;
  if (reply.hostname === null || !expected.hostnames.includes(reply.hostname.toLowerCase())) return fail("CAPTCHA_HOSTNAME_MISMATCH", false);
  if (options.profile.action && reply.action !== expected.action) return fail("CAPTCHA_ACTION_MISMATCH", false);
  if (options.profile.cdata && reply.cdata !== expected.cdata) return fail("CAPTCHA_CDATA_MISMATCH", false);
  const solved = reply.challengeTs === null ? Number.NaN : Date.parse(reply.challengeTs);
  if (!Number.isFinite(solved)) return fail("CAPTCHA_BAD_RESPONSE", true);
  if (input.now - solved > options.maxAgeMs || solved - input.now > FUTURE_SKEW_MS) return fail("CAPTCHA_EXPIRED", false);
  return { ok: true };
}
