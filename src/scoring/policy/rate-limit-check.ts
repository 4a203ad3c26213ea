/**
 * Checks on the rule file's `rate_limits` that the schema cannot express. The one that
 * matters most is victim protection (OWASP Forgot Password Cheat Sheet; NIST SP 800-63B
 * 5.2.2): anyone can send resets for someone else's account, so an account-level 429
 * or penalty box would lock the owner out together with the attacker. Account and
 * global ladders may only ask for a CAPTCHA; 429s and boxes belong on the keys an
 * attacker controls (IP, subnet, device, ASN).
 */
import { durationMs } from "../rules/duration.ts";
import type { KeyKind, LadderSpec, RulesetSpec } from "../rules/schema.ts";
import type { Problem } from "../rules/locate.ts";

/** Keys that may never be blocked: blocking them locks real users out. */
const CAPTCHA_ONLY: Partial<Record<KeyKind, string>> = {
  account: "an account-level 429 would lock the owner out with the attacker (no lockout on reset); use action: captcha, and put 429s on ip, subnet, device or asn",
  global: "a global 429 would lock every user out; use action: captcha",
};

function ladderProblems(name: string, ladder: LadderSpec): Problem[] {
  const problems: Problem[] = [];
  const at = (...path: (string | number)[]) => ["rate_limits", name, ...path];
  const refusal = CAPTCHA_ONLY[ladder.key];
  ladder.steps.forEach((step, i) => {
    if (step.action === "block" && refusal !== undefined) problems.push({ path: at("steps", i, "action"), message: refusal });
  });
  const blocks = ladder.steps.filter((s) => s.action === "block");
  if (ladder.penalty !== undefined && blocks.length === 0) {
    problems.push({ path: at("penalty"), message: "a penalty box escalates 429s: add a block step or remove the penalty" });
  }
  if (ladder.penalty !== undefined && durationMs(ladder.penalty.max) < durationMs(ladder.penalty.base)) {
    problems.push({ path: at("penalty", "max"), message: "max must be at least base" });
  }
  ladder.steps.forEach((step, i) => {
    // A CAPTCHA step at or above a block step over the same window can never be reached.
    const shadowed = step.action === "captcha" && blocks.some((b) => b.window === step.window && b.limit <= step.limit);
    if (shadowed) problems.push({ path: at("steps", i, "limit"), message: `the CAPTCHA step is never reached: a block step over ${step.window} has a limit at or below ${step.limit}` });
  });
  return problems;
}

/** Everything wrong with the spec's ladders. */
export function rateLimitProblems(spec: RulesetSpec): Problem[] {
  return Object.entries(spec.rate_limits).flatMap(([name, ladder]) => ladderProblems(name, ladder));
}

/**
 * A candidate decides on the live request's facts and store answers; the ladder checks
 * ride in that store batch, so a candidate cannot change them.
 */
export function candidateRateLimitProblems(live: RulesetSpec, candidate: RulesetSpec): Problem[] {
  const problems: Problem[] = [];
  if (JSON.stringify(live.rate_limits) !== JSON.stringify(candidate.rate_limits)) {
    problems.push({ path: ["rate_limits"], message: "rate_limits differs from the live rule set; ladders run on the live store batch, so change them in the live rules" });
  }
  // The CAPTCHA step runs once, for the live decision; a candidate's settings would never apply.
  if (JSON.stringify(live.captcha) !== JSON.stringify(candidate.captcha)) {
    problems.push({ path: ["captcha"], message: "captcha differs from the live rule set; the CAPTCHA step runs for the live decision only, so change it in the live rules" });
  }
  return problems;
}
