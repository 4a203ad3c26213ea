/**
 * What the CAPTCHA step concluded, as the layers below it read it: policy's escalation
 * (src/scoring/policy/escalation.ts) and the audit events. The step itself is
 * src/captcha/ (gate.ts, siteverify.ts), which re-exports these.
 */

/** Why a token did not pass. */
export type CaptchaCode =
  /** The provider rejected the token (forged, malformed, for another site key). */
  | "CAPTCHA_INVALID"
  /** The provider says the token was already spent or has expired. */
  | "CAPTCHA_DUPLICATE"
  /** Our own record saw this token before (a replay the provider may not catch). */
  | "CAPTCHA_REPLAYED"
  /** Solved longer ago than `captcha.max_age`. */
  | "CAPTCHA_EXPIRED"
  | "CAPTCHA_HOSTNAME_MISMATCH"
  | "CAPTCHA_ACTION_MISMATCH"
  | "CAPTCHA_CDATA_MISMATCH"
  /** Dependency failures: the provider did not answer in time, at all, or sensibly. */
  | "CAPTCHA_TIMEOUT"
  | "CAPTCHA_UNAVAILABLE"
  | "CAPTCHA_BAD_RESPONSE"
  /** The provider refused our secret or request: an operator error, never failed open. */
  | "CAPTCHA_MISCONFIGURED";

/** What the CAPTCHA step concluded. */
export type CaptchaState =
  | { readonly status: "none" }
  | { readonly status: "passed"; readonly via: "token" | "pass" }
  /** A token was presented and refused. */
  | { readonly status: "failed"; readonly code: CaptchaCode }
  /** The provider failed (timeout, outage, misconfiguration): the fail mode decides. */
  | { readonly status: "error"; readonly code: CaptchaCode };
