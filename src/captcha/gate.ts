/**
 * The CAPTCHA step of the request path, run only when policy asks for a CAPTCHA: a valid
 * pass for this IP and account spares the challenge; otherwise a token must be new to
 * our own record and pass siteverify.
 *
 * Single use, twice over: the provider refuses a spent token (`timeout-or-duplicate`),
 * and the gateway keeps its own record in the request's one store batch, so a replay is
 * refused without a siteverify call even where the provider would not catch it (a test
 * key, another provider). The record is two hits on a sliding window keyed by the
 * token's HMAC: a first use reads 1; any use within `max_age` after it reads at least 2,
 * also across a bucket edge (the previous bucket's 2 is weighted by at least 2/3 when
 * the window is three times `max_age`). Tokens older than `max_age` are refused anyway.
 */
import type { Hasher } from "../context/hmac.ts";
import type { WindowHit } from "../store/port.ts";
import type { CaptchaConfig } from "./config.ts";
import { createPassSigner, type PassBinding, type PassSigner } from "./pass.ts";
import type { CaptchaRequest } from "./request.ts";
import type { CaptchaSettings } from "../scoring/rules/captcha-settings.ts";
import type { CaptchaState } from "../shared/captcha.ts";
import { siteverify } from "./siteverify.ts";

export type { CaptchaState } from "../shared/captcha.ts";


/** One request's CAPTCHA input, with the token hashed for the store. */
export interface PreparedCaptcha {
  readonly request: CaptchaRequest;
  readonly binding: PassBinding;
  /** HMAC of the token, or null without one. */
  readonly tokenKey: string | null;
  /** The widget `cData` for this account (Turnstile echoes it; siteverify must match). */
  readonly cdata: string;
  readonly clientIp: string | null;
  readonly now: number;
}

/** The CAPTCHA step, built once per isolate. */
export interface CaptchaGate {
  readonly config: CaptchaConfig;
  readonly settings: CaptchaSettings;
  prepare(request: CaptchaRequest, binding: PassBinding, clientIp: string | null, now: number): Promise<PreparedCaptcha>;
  /** The store hits that record the token's use (empty without a token). */
  recordHits(prepared: PreparedCaptcha): WindowHit[];
  /** Decide; `seen` is whether our record saw the token before (null: store unavailable). */
  check(prepared: PreparedCaptcha, seen: boolean | null): Promise<CaptchaState>;
  issuePass(binding: PassBinding, now: number): Promise<string>;
}

/** What building the gate needs. */
export interface GateDeps {
  readonly config: CaptchaConfig;
  readonly settings: CaptchaSettings;
  readonly hasher: Hasher;
  readonly fetcher: typeof fetch;
  readonly newKey: () => string;
}

/** Our record's window: three times the token's maximum age, at least 15 minutes. */
export function recordWindowMs(settings: CaptchaSettings): number {
  return Math.max(15 * 60_000, 3 * settings.maxAgeMs);
}

/** One siteverify call for the prepared request: the token must match this host, action and account. */
function verifyToken(deps: GateDeps, prepared: PreparedCaptcha, token: string) {
  const { config, settings } = deps;
  return siteverify(
    { profile: config.profile, url: config.siteverifyUrl, secret: config.secret, timeoutMs: settings.timeoutMs, attempts: settings.attempts, maxAgeMs: settings.maxAgeMs, fetcher: deps.fetcher, newKey: deps.newKey },
    {
      token,
      remoteIp: prepared.clientIp,
      now: prepared.now,
      // Without configured hostnames, the widget must have run on the host this request came to.
      expected: { hostnames: config.hostnames ?? [prepared.request.hostname], action: settings.action, cdata: prepared.cdata },
    },
  );
}

/** Build the gate (imports the pass key once). */
export async function createCaptchaGate(deps: GateDeps): Promise<CaptchaGate> {
  const { config, settings, hasher } = deps;
  const signer: PassSigner = await createPassSigner(config.passSecret, settings.passTtlMs, config.passSecretDerived);
  const windowMs = recordWindowMs(settings);
  return {
    config,
    settings,
    async prepare(request, binding, clientIp, now) {
      const [tokenKey, cdata] = await Promise.all([
        request.token === null ? null : hasher.hash("captcha-token", request.token),
        hasher.hash("captcha-cdata", binding.account),
      ]);
      return { request, binding, tokenKey, cdata, clientIp, now };
    },
    recordHits(prepared) {
      if (prepared.tokenKey === null) return [];
      const hit = { key: `cap:${prepared.tokenKey}`, windowMs };
      return [hit, hit];
    },
    async check(prepared, seen) {
      const { pass, token } = prepared.request;
      if (pass !== null && (await signer.verify(pass, prepared.binding, prepared.now))) return { status: "passed", via: "pass" };
      if (token === null) return { status: "none" };
      if (seen === true) return { status: "failed", code: "CAPTCHA_REPLAYED" };
      const result = await verifyToken(deps, prepared, token);
      if (result.ok) return { status: "passed", via: "token" };
      return result.dependency ? { status: "error", code: result.code } : { status: "failed", code: result.code };
    },
    issuePass: (binding, now) => signer.issue(binding, now),
  };
}
