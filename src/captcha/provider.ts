/**
 * CAPTCHA providers. Turnstile is first-class; hCaptcha and reCAPTCHA (v2) plug in by
 * configuration because all three share one shape: a widget script with explicit
 * rendering (`?render=explicit&onload=fn`, then `render(element, {sitekey, callback})`)
 * that puts its token in a form field, and a siteverify endpoint taking a form POST of
 * `secret`, `response` and `remoteip` and answering
 * `{success, challenge_ts, hostname, "error-codes"}`. What differs is recorded here.
 */

/** A provider name as configured (`CAPTCHA_PROVIDER`). */
export type ProviderName = "turnstile" | "hcaptcha" | "recaptcha";

/** What the gateway needs to know about a provider. */
export interface ProviderProfile {
  readonly name: ProviderName;
  readonly siteverifyUrl: string;
  readonly scriptUrl: string;
  /** The widget script's global object. */
  readonly global: "turnstile" | "hcaptcha" | "grecaptcha";
  /** The form field the widget fills with its token. */
  readonly field: string;
  /** Siteverify echoes the widget's `action` (checked against the rule file's). */
  readonly action: boolean;
  /** Siteverify echoes the widget's `cData` (bound to the account). */
  readonly cdata: boolean;
  /** Siteverify honours `idempotency_key`, so a retry does not spend the token twice. */
  readonly idempotency: boolean;
  /** Origins the challenge page must allow besides the script's (CSP). */
  readonly cspOrigins: readonly string[];
}

/** The three supported providers. */
export const PROVIDERS: Readonly<Record<ProviderName, ProviderProfile>> = {
  turnstile: {
    name: "turnstile",
    siteverifyUrl: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    scriptUrl: "https://challenges.cloudflare.com/turnstile/v0/api.js",
    global: "turnstile",
    field: "cf-turnstile-response",
    action: true,
    cdata: true,
    idempotency: true,
    cspOrigins: ["https://challenges.cloudflare.com"],
  },
  hcaptcha: {
    name: "hcaptcha",
    siteverifyUrl: "https://api.hcaptcha.com/siteverify",
    scriptUrl: "https://js.hcaptcha.com/1/api.js",
    global: "hcaptcha",
    field: "h-captcha-response",
    action: false,
    cdata: false,
    idempotency: false,
    cspOrigins: ["https://hcaptcha.com", "https://*.hcaptcha.com"],
  },
  recaptcha: {
    name: "recaptcha",
    siteverifyUrl: "https://www.google.com/recaptcha/api/siteverify",
    scriptUrl: "https://www.google.com/recaptcha/api.js",
    global: "grecaptcha",
    field: "g-recaptcha-response",
    action: false,
    cdata: false,
    idempotency: false,
    cspOrigins: ["https://www.google.com", "https://www.gstatic.com"],
  },
};

/**
 * Cloudflare's published Turnstile test keys (developers.cloudflare.com/turnstile/
 * troubleshooting/testing/): the always-passing pair is the development default and is
 * refused in production, where a dummy secret would accept any token.
 */
export const TURNSTILE_TEST_KEYS = {
  siteKey: "1x00000000000000000000AA",
  secret: "1x0000000000000000000000000000000AA",
} as const;

/** True for any of Cloudflare's dummy Turnstile site keys or secrets. */
export function isTurnstileTestKey(key: string): boolean {
  return /^[123]x0{20,}[A-F]{2}$/.test(key);
}

/** The request header API clients may send a token in (instead of the body field). */
export const TOKEN_HEADER = "captcha-response";
/** The request header API clients may send a pass in (browsers use the cookie). */
export const PASS_HEADER = "captcha-pass";
/** The cookie that carries the pass for browsers. */
export const PASS_COOKIE = "riskgate_pass";
