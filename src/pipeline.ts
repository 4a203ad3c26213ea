/**
 * The request path after context: signals → rules → policy → decision, in one
 * direction. The only I/O is the single store batch; its failure becomes a named
 * fail mode in the decision's `errors`, never an accidental allow.
 *
 * Shadow mode: when a candidate rule set is bundled, it decides on the same facts
 * (no second store call) and its outcome goes to the decision log only.
 *
 * Rate-limit ladders ride in the same store batch; a client the isolate already knows
 * to be blocked is answered 429 without any store call and without scoring. A CAPTCHA
 * is checked (pass, then token: one siteverify call) only when policy asks for one.
 */
import type { CaptchaGate, CaptchaState, PreparedCaptcha } from "./captcha/gate.ts";
import type { CaptchaRequest } from "./captcha/request.ts";
import type { RequestContext } from "./context/index.ts";
import type { Decision, Reason } from "./decision.ts";
import { celValuesFor, type Failure, failModeFor, type Outcome, outcomeFor } from "./outcome.ts";
import { budgetCounts, planBudgets } from "./policy/channels.ts";
import { escalate, needsCaptcha } from "./policy/escalation.ts";
import {
  cachedLadder,
  type LadderPlan,
  type LadderState,
  nextBoxMs,
  planLadders,
  readLadders,
  summariseLadders,
  waiveCaptchas,
} from "./policy/rate-limit.ts";
import type { CompiledRuleset } from "./rules/compile.ts";
import type { Facts } from "./rules/context-schema.ts";
import { planSignals, signalFacts } from "./signals/index.ts";
import type { BlockCache } from "./store/ephemeral.ts";
import { type CachedBlock, type ObserveResult, type PenaltyUpdate, type Store, StoreError } from "./store/port.ts";

/** What deciding needs. */
export interface PipelineDeps {
  readonly ruleset: CompiledRuleset;
  /** The shadow candidate, if one is bundled. */
  readonly candidate?: CompiledRuleset | null;
  readonly store: Store;
  readonly newId: () => string;
  /** The CAPTCHA step; absent or null (CAPTCHA_PROVIDER=none): challenges cannot be solved. */
  readonly captcha?: CaptchaGate | null;
  /**
   * Penalty boxes this isolate imposed (penalty key → until), remembered until the
   * escalation written after the response is visible in the store: a request arriving
   * meanwhile is told the box's Retry-After and does not escalate it again.
   */
  readonly boxes?: BlockCache;
}

/** The candidate's conclusion, as the decision log records it. */
export interface CandidateSummary {
  readonly rules: string;
  readonly verdict: Decision["verdict"];
  readonly tier: string;
  readonly score: number;
  readonly channel: string;
  readonly reasons: readonly Reason[];
  /** True when the candidate's verdict or tier differs from the live decision. */
  readonly changed: boolean;
}

/** A decision and the facts that produced it (facts go to explanations, never the client). */
export interface PipelineResult {
  readonly decision: Decision;
  readonly facts: Facts;
  readonly shadowReasons: readonly Reason[];
  readonly candidate: CandidateSummary | null;
  /** Each rate-limit ladder's state, for the log. */
  readonly ladders: readonly LadderState[];
  readonly captcha: CaptchaState;
  /** The request's CAPTCHA input (for the challenge and the pass), or null without a gate. */
  readonly prepared: PreparedCaptcha | null;
  /** Penalty escalations to apply after the response (record stage). */
  readonly penalize: readonly PenaltyUpdate[];
}

/** Decide one reset request; `captcha` carries the request's token and pass, if any. */
export async function decide(ctx: RequestContext, deps: PipelineDeps, captcha: CaptchaRequest | null = null): Promise<PipelineResult> {
  const { ruleset } = deps;
  const gate = deps.captcha ?? null;
  const prepared = gate === null || captcha === null ? null : await gate.prepare(captcha, { ip: ctx.keys.ip, account: ctx.keys.account }, ctx.ip?.address ?? null, ctx.now);
  const plan = planSignals(ctx, ruleset);
  const budgets = planBudgets(ruleset, ctx.geo?.country ?? "");
  const ladders = planLadders(ruleset.ladders, ctx.keys);
  const record = gate === null || prepared === null ? [] : gate.recordHits(prepared);
  const signalHits = plan.observe.hits.length;
  const recordAt = signalHits + budgets.hits.length;
  const failures: Failure[] = [];
  let result: ObserveResult | null = null;
  try {
    const hits = [...plan.observe.hits, ...budgets.hits, ...record];
    result = await deps.store.observe({ ...plan.observe, hits, limits: ladders.limits, penalties: ladders.penalties });
  } catch (err) {
    failures.push({ dependency: "store", code: err instanceof StoreError ? err.code : "STORE_UNAVAILABLE" });
  }
  // Known blocked: nothing was read or counted, so nothing can be scored (counts are not 0).
  if (result?.blocked != null) return blockedDecision(ctx, deps, ladders, result.blocked, prepared);
  const facts: Facts = {
    ...signalFacts(ctx, plan, result),
    budget: budgetCounts(budgets, result === null ? null : result.counts.slice(signalHits, recordAt)),
  };
  const input = { facts, accountKey: ctx.keys.account, failures };
  const live = outcomeFor(ruleset, input);
  const recent = recentBoxes(deps.boxes);
  const states = waiveCaptchas(readLadders(ladders, result?.limits ?? [], result?.penalties ?? [], ctx.now, recent), ruleset.ladders, celValuesFor(ruleset, input));
  const summary = summariseLadders(states);
  rememberBoxes(deps.boxes, states);
  // Our own single-use record: unknown (null) when the store failed.
  const seen = result === null || record.length === 0 ? null : (result.counts[recordAt] ?? 0) > 1;
  const captchaState: CaptchaState =
    gate !== null && prepared !== null && needsCaptcha(live, summary) ? await gate.check(prepared, seen) : { status: "none" };
  const final = escalate(live, summary, captchaState, failModeFor(ruleset, "captcha"));
  const decision: Decision = {
    id: deps.newId(),
    verdict: final.verdict,
    tier: live.tier,
    score: live.score,
    channel: final.channel,
    channels: final.channels,
    reasons: final.reasons,
    mode: "live",
    errors: final.errors,
    rulesetVersion: ruleset.version,
    ...(final.retryAfter > 0 ? { retryAfter: final.retryAfter } : {}),
  };
  const candidate = deps.candidate == null ? null : summarise(deps.candidate, outcomeFor(deps.candidate, input), live);
  return { decision, facts, shadowReasons: live.shadowReasons, candidate, ladders: states, captcha: captchaState, prepared, penalize: summary.penalize };
}

/** A 429 from the isolate's block cache: the strictest tier, no score, no store call. */
function blockedDecision(ctx: RequestContext, deps: PipelineDeps, plan: LadderPlan, blocked: CachedBlock, prepared: PreparedCaptcha | null): PipelineResult {
  const state = cachedLadder(plan, blocked, ctx.now, recentBoxes(deps.boxes));
  const summary = summariseLadders([state]);
  const decision: Decision = {
    id: deps.newId(),
    verdict: "deny",
    tier: deps.ruleset.tiers[0]?.name ?? "unknown",
    score: 0,
    channel: "none",
    channels: [],
    reasons: summary.reasons,
    mode: "live",
    errors: [],
    rulesetVersion: deps.ruleset.version,
    retryAfter: summary.retryAfter,
  };
  return { decision, facts: {}, shadowReasons: [], candidate: null, ladders: [state], captcha: { status: "none" }, prepared, penalize: [] };
}

function recentBoxes(boxes: BlockCache | undefined): (key: string, now: number) => number | null {
  return (key, now) => boxes?.blockedUntil(key, now) ?? null;
}

/** Remember the boxes this request imposes (escalated after the response). */
function rememberBoxes(boxes: BlockCache | undefined, states: readonly LadderState[]): void {
  for (const s of states) {
    if (s.penalize !== null) boxes?.set(s.penalize.key, s.penalize.now + nextBoxMs(s.penalize.policy, s.level));
  }
}

function summarise(ruleset: CompiledRuleset, outcome: Outcome, live: Outcome): CandidateSummary {
  return {
    rules: ruleset.version,
    verdict: outcome.verdict,
    tier: outcome.tier,
    score: outcome.score,
    channel: outcome.channel,
    reasons: outcome.reasons,
    changed: outcome.verdict !== live.verdict || outcome.tier !== live.tier,
  };
}
