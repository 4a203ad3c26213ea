/**
 * The rule file's `captcha` section with durations resolved: what the gateway asks of a
 * CAPTCHA token and how long a solved one spares the user another challenge.
 */
import { durationMs } from "./duration.ts";
import type { CaptchaSpec } from "./schema.ts";

/** CAPTCHA settings as the request path uses them. */
export interface CaptchaSettings {
  /** The widget action siteverify must echo (Turnstile). */
  readonly action: string;
  /** Bound on one siteverify call. */
  readonly timeoutMs: number;
  /** Siteverify calls per token at most; a retry reuses the idempotency key. */
  readonly attempts: number;
  /** Tokens solved longer ago than this are refused. */
  readonly maxAgeMs: number;
  /** Lifetime of the signed pass. */
  readonly passTtlMs: number;
}

/** Resolve the section's durations. */
export function captchaSettings(spec: CaptchaSpec): CaptchaSettings {
  return {
    action: spec.action,
    timeoutMs: durationMs(spec.timeout),
    attempts: spec.attempts,
    maxAgeMs: durationMs(spec.max_age),
    passTtlMs: durationMs(spec.pass_ttl),
  };
}
