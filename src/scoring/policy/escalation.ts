/**
 * The last policy step: the rule set's outcome (tier, verdict, channels), the rate-limit
 * ladders and the CAPTCHA step together give the final verdict. Pure.
 *
 * Precedence, strictest first:
 *   1. a ladder at 429 or in a penalty box: `deny` with `Retry-After` (the client sees 429);
 *   2. a `deny` verdict on request-side facts (silent: the uniform 202);
 *   3. a CAPTCHA asked for by the tier (`captcha: true`, or a `challenge` verdict,
 *      including a fail mode's) or by a ladder's CAPTCHA step: a solved CAPTCHA (token or
 *      pass) lets the request through with the tier's channels; anything else is a
 *      `challenge` (403);
 *   4. the outcome's verdict.
 * A deny resting on account-side facts (`outcome.silent`) changes nothing the client sees:
 * a CAPTCHA asked for on request-side facts is still asked, and solving it gets the
 * uniform 202 instead of a forward (docs/architecture.md, "What the client sees").
 */
import type { CaptchaState } from "../../shared/captcha.ts";
import type { DependencyError, FailMode, Reason, Verdict } from "../../shared/decision.ts";
import { stricter } from "./index.ts";
import type { LadderSummary } from "./rate-limit.ts";

/**
 * What escalation reads of a rule set's outcome (src/scoring/verdict.ts's `Outcome`, which
 * sits above policy, satisfies it).
 */
export interface OutcomeSummary {
  readonly verdict: Verdict;
  readonly channel: string;
  readonly channels: readonly string[];
  /** The tier asks for a CAPTCHA. */
  readonly captcha: boolean;
  /** A deny that rests on account-side facts: the client sees what request-side facts call for. */
  readonly silent: boolean;
  /** A solved CAPTCHA can lift the client-visible challenge (its tier has a channel). */
  readonly liftable: boolean;
  readonly reasons: readonly Reason[];
  readonly errors: readonly DependencyError[];
}

/** The final verdict and what explains it. */
export interface Escalated {
  readonly verdict: Verdict;
  readonly channel: string;
  readonly channels: readonly string[];
  readonly reasons: readonly Reason[];
  readonly errors: readonly DependencyError[];
  /** Whole seconds for `Retry-After` when a ladder refused the request (429); 0 otherwise. */
  readonly retryAfter: number;
}

/** Whether the request must show a CAPTCHA, before any token or pass is looked at. */
export function needsCaptcha(outcome: OutcomeSummary, ladder: LadderSummary): boolean {
  if (ladder.step === "block" || ladder.step === "penalty" || (outcome.verdict === "deny" && !outcome.silent)) return false;
  return outcome.captcha || ladder.step === "captcha";
}

function captchaVerdict(outcome: OutcomeSummary, captcha: CaptchaState, failMode: FailMode): { verdict: Verdict; reasons: Reason[]; error: DependencyError | null } {
  // A solved CAPTCHA lifts a challenge only where the client-visible tier has a channel to
  // verify with; a silent deny stays a deny once the client is past the CAPTCHA.
  const lifted: Verdict = !outcome.liftable ? "challenge" : outcome.silent ? "deny" : "allow";
  switch (captcha.status) {
    case "passed":
      return { verdict: lifted, reasons: [{ code: "CAPTCHA_PASSED", rule: `captcha.${captcha.via}`, weight: 0 }], error: null };
    case "failed":
      return { verdict: "challenge", reasons: [{ code: "CAPTCHA_FAILED", rule: "captcha.token", weight: 0 }], error: null };
    case "error": {
      // A provider refusing our own secret is an operator error: never failed open.
      const mode = captcha.code === "CAPTCHA_MISCONFIGURED" ? stricter(failMode, "challenge") : failMode;
      const error: DependencyError = { dependency: "captcha", code: captcha.code, failMode: mode };
      const verdict = mode === "allow" ? lifted : outcome.silent && mode === "deny" ? "deny" : mode;
      const reasons: Reason[] = mode === "allow" ? [] : [{ code: "FAIL_MODE_APPLIED", rule: "policy.fail-mode", weight: 0 }];
      return { verdict, reasons, error };
    }
    default:
      return { verdict: "challenge", reasons: [], error: null };
  }
}

/** Combine the outcome, the ladders and the CAPTCHA step. */
export function escalate(outcome: OutcomeSummary, ladder: LadderSummary, captcha: CaptchaState, failMode: FailMode): Escalated {
  const reasons = [...outcome.reasons, ...ladder.reasons];
  const denied = { channel: "none", channels: [] as readonly string[], errors: outcome.errors };
  if (ladder.step === "block" || ladder.step === "penalty") {
    return { ...denied, verdict: "deny", reasons, retryAfter: ladder.retryAfter };
  }
  if (!needsCaptcha(outcome, ladder)) {
    return { verdict: outcome.verdict, channel: outcome.channel, channels: outcome.channels, reasons, errors: outcome.errors, retryAfter: 0 };
  }
  const step = captchaVerdict(outcome, captcha, failMode);
  const errors = step.error === null ? outcome.errors : [...outcome.errors, step.error];
  const all = [...reasons, ...step.reasons.filter((r) => !reasons.some((o) => o.code === r.code && o.rule === r.rule))];
  if (step.verdict === "deny") return { ...denied, verdict: "deny", reasons: all, errors, retryAfter: 0 };
  return { verdict: step.verdict, channel: outcome.channel, channels: outcome.channels, reasons: all, errors, retryAfter: 0 };
}
