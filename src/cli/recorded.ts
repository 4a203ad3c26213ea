/**
 * What a decision log line recorded besides the facts: the rate-limit ladders' steps and
 * the CAPTCHA step. `rules explain` and `rules replay` feed them through the same
 * escalation the Worker runs (src/scoring/policy/escalation.ts), so a decision the IP
 * ladder challenged is recomputed as a challenge, not as the rules' bare `allow`.
 *
 * Ladders count in the store, which the CLI cannot see: the recorded step is taken as
 * is (ladders must be the same in the live rules and the candidate, rate-limit-check.ts),
 * so a candidate changes what the rules add on top of them, never the ladders.
 */
import type { CaptchaState } from "../shared/captcha.ts";
import type { Reason, Verdict } from "../shared/decision.ts";
import { escalate, needsCaptcha } from "../scoring/policy/escalation.ts";
import { type LadderState, type LadderStep, type LadderSummary, summariseLadders } from "../scoring/policy/rate-limit.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import { failModeFor, type Outcome, type OutcomeInput, outcomeFor } from "../scoring/verdict.ts";

/** One ladder as the log line records it (`rate_limits`). */
export interface RecordedLadder {
  readonly name: string;
  readonly step: LadderStep;
  readonly waived: boolean;
  readonly level: number | null;
}

/** What was recorded of one decision, besides its facts. */
export interface Recorded {
  /** False when the input has no `rate_limits` (a fixture or bare facts): the ladders' steps are unknown. */
  readonly ladderStepsKnown: boolean;
  readonly ladders: readonly RecordedLadder[];
  readonly captcha: CaptchaState;
  /** The recorded verdict and tier; null for input that is not a logged decision. */
  readonly verdict: string | null;
  readonly tier: string | null;
}

/** The final decision of one rule set on recorded input. */
export interface Final {
  readonly outcome: Outcome;
  readonly ladder: LadderSummary;
  readonly verdict: Verdict;
  readonly channel: string;
  readonly reasons: readonly Reason[];
  /** A CAPTCHA was asked for (by the tier or a ladder), solved or not. */
  readonly captchaAsked: boolean;
}

const STEPS: readonly LadderStep[] = ["allow", "captcha", "block", "penalty"];
const CAPTCHA_STATUSES = ["none", "passed", "failed", "error"];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Read `rate_limits`, `captcha`, `verdict` and `tier` of a log line (or a fixture-like object); absent ones read as none. */
export function recordedFrom(json: unknown): Recorded {
  const line = isRecord(json) ? json : {};
  const ladders: RecordedLadder[] = [];
  if (Array.isArray(line.rate_limits)) {
    for (const l of line.rate_limits) {
      if (!isRecord(l) || typeof l.name !== "string" || !(STEPS as readonly unknown[]).includes(l.step)) {
        throw new Error(`rate_limits: expected { name, step: ${STEPS.join("|")}, waived }, got ${JSON.stringify(l)}`);
      }
      ladders.push({ name: l.name, step: l.step as LadderStep, waived: l.waived === true, level: typeof l.level === "number" ? l.level : null });
    }
  }
  const c = line.captcha;
  const captcha: CaptchaState = isRecord(c) && CAPTCHA_STATUSES.includes(c.status as string) ? (c as unknown as CaptchaState) : { status: "none" };
  return {
    ladderStepsKnown: Array.isArray(line.rate_limits),
    ladders,
    captcha,
    verdict: typeof line.verdict === "string" ? line.verdict : null,
    tier: typeof line.tier === "string" ? line.tier : null,
  };
}

/** The ladder states policy reads, from what was recorded. */
function ladderStates(ruleset: CompiledRuleset, recorded: Recorded): LadderState[] {
  return recorded.ladders.map((l) => ({
    name: l.name,
    key: ruleset.ladders.find((c) => c.name === l.name)?.key ?? "global",
    step: l.step,
    retryAfterMs: 0,
    level: l.level ?? 0,
    penalize: null,
    waived: l.waived,
  }));
}

/** Decide with one rule set, then escalate with the recorded ladders and CAPTCHA step. */
export function finalFor(ruleset: CompiledRuleset, input: OutcomeInput, recorded: Recorded): Final {
  const outcome = outcomeFor(ruleset, input);
  const ladder = summariseLadders(ladderStates(ruleset, recorded));
  const escalated = escalate(outcome, ladder, recorded.captcha, failModeFor(ruleset, "captcha"));
  return {
    outcome,
    ladder,
    verdict: escalated.verdict,
    channel: escalated.channel,
    reasons: escalated.reasons,
    captchaAsked: needsCaptcha(outcome, ladder),
  };
}
