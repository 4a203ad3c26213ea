/**
 * Payloads of the follow-up events of a request (CAPTCHA check, rate-limit steps) and of
 * an outcome report. Pure: built in the record stage from values the request path
 * already computed, so emitting them costs no I/O before the response.
 */
import type { CaptchaState } from "../shared/captcha.ts";
import type { LadderState, LadderStep } from "../scoring/policy/rate-limit.ts";
import type { AuditInput, ChallengeSolvedData, OutcomeKind, RateLimitStepData } from "./events.ts";

/**
 * What `outcome.received` reads of a verified report (src/outcomes/verify.ts's
 * `VerifiedOutcome`, a layer above, satisfies it).
 */
export interface ReceivedOutcome {
  readonly decisionId: string;
  readonly event: OutcomeKind;
  /** Hashed account key from the decision. */
  readonly account: string;
  /** The experiment arm the decision carried; null when not enrolled. */
  readonly experiment: { readonly id: string; readonly arm: string } | null;
  /** The origin's privileged tag in the report (true sets, false clears); null when absent. */
  readonly privileged: boolean | null;
}

/** The `challenge.solved` payload when the CAPTCHA step ran (passed, failed or errored); null when it did not. */
export function challengeSolvedData(captcha: CaptchaState | null | undefined, provider: string | null): ChallengeSolvedData | null {
  if (captcha == null || captcha.status === "none") return null;
  if (captcha.status === "passed") return { kind: "captcha", provider, success: true, error: null, via: captcha.via };
  // Failed and errored checks both come from a presented token (a pass either verifies or is ignored).
  return { kind: "captcha", provider, success: false, error: captcha.code, via: "token" };
}

/** Rung of a step, the same on every ladder: 1 CAPTCHA, 2 the 429 step, 3 the penalty box. */
const RUNG: Record<Exclude<LadderStep, "allow">, number> = { captcha: 1, block: 2, penalty: 3 };
const ACTION = { captcha: "challenge", block: "deny", penalty: "deny" } as const;

/** One `ratelimit.step` payload per ladder not at `allow` or whose CAPTCHA step was waived. */
export function rateLimitStepData(ladders: readonly LadderState[]): RateLimitStepData[] {
  return ladders.flatMap((l): RateLimitStepData[] => {
    if (l.step === "allow") {
      // A waived CAPTCHA step is the only way a ladder at `allow` has something to report.
      return l.waived ? [{ ladder: l.name, step: RUNG.captcha, action: "waived", key: l.key, retry_after_s: null }] : [];
    }
    const waits = l.step === "block" || l.step === "penalty";
    return [{
      ladder: l.name,
      step: RUNG[l.step],
      action: ACTION[l.step],
      key: l.key,
      // Whole seconds, rounded up like the response's Retry-After.
      retry_after_s: waits ? Math.max(1, Math.ceil(l.retryAfterMs / 1000)) : null,
    }];
  });
}

/** What the outcomes route knows about a report besides the verified token. */
export interface OutcomeDetails {
  /** The channel the send used: the report's, else the decision's. */
  readonly channel: string | null;
  /** A send's cost (the origin's, else the cost table's price), in `currency`; null for other events. */
  readonly cost: number | null;
  readonly currency: string | null;
  /** The decision already had this outcome (a resend, a second report). */
  readonly repeat: boolean;
}

/** The `outcome.received` event of a verified, first-seen report (the decision it is about correlates). */
export function outcomeReceived(outcome: ReceivedOutcome, requestId: string, at: number, details: OutcomeDetails): AuditInput {
  return {
    type: "outcome.received",
    request_id: requestId,
    decision_id: outcome.decisionId,
    at,
    data: {
      outcome: outcome.event,
      channel: details.channel,
      cost: details.cost,
      currency: details.currency,
      account: outcome.account,
      experiment: outcome.experiment,
      repeat: details.repeat,
      // A tag change is security-relevant: it moves the account to the privileged tier table.
      ...(outcome.privileged === null ? {} : { privileged: outcome.privileged }),
    },
  };
}
