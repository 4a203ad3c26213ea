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
 *
 * While the store is down the ladders, penalty boxes and the token's single-use record
 * run on this isolate's local counters (src/store/fallback.ts) instead of going
 * uncounted, so neither a fail mode's challenge lifted by a CAPTCHA pass nor a replayed
 * token gets past them; the failure stays in `errors`, marked `local-counters`.
 */
import type { CaptchaGate, CaptchaState, PreparedCaptcha } from "../captcha/gate.ts";
import type { CaptchaRequest } from "../captcha/request.ts";
import type { RequestContext } from "../context/index.ts";
import type { Hasher } from "../context/hmac.ts";
import type { CandidateSummary, Decision, Reason } from "../shared/decision.ts";
import { drawsFor, type ExperimentInput } from "../scoring/experiments/assign.ts";
import { activeExperiments } from "../scoring/experiments/compile.ts";
import type { ExperimentMonitor } from "../scoring/experiments/monitor.ts";
import { celValuesFor, type Failure, failModeFor, type Outcome, type OutcomeInput, outcomeFor } from "../scoring/verdict.ts";
import { type BudgetPlan, budgetCounts, planBudgets } from "../scoring/policy/channels.ts";
import { type Escalated, escalate, needsCaptcha } from "../scoring/policy/escalation.ts";
import {
  cachedLadder,
  type LadderPlan,
  type LadderState,
  nextBoxMs,
  planLadders,
  readLadders,
  summariseLadders,
  waiveCaptchas,
} from "../scoring/policy/rate-limit.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import type { Facts } from "../scoring/rules/context-schema.ts";
import { planSignals, type SignalPlan, signalFacts } from "../scoring/signals/index.ts";
import type { ReputationLists } from "../scoring/signals/ip-reputation.ts";
import { accountBlock, type LiveIndex } from "../shared/live-list.ts";
import type { BlockCache } from "../store/ephemeral.ts";
import type { LocalCounters, LocalObserveResult } from "../store/fallback.ts";
import { type CachedBlock, type ObserveRequest, type ObserveResult, type PenaltyUpdate, type Store, StoreError } from "../store/port.ts";

/** What deciding needs. */
export interface PipelineDeps {
  readonly ruleset: CompiledRuleset;
  /** The shadow candidate, if one is bundled. */
  readonly candidate?: CompiledRuleset | null;
  /** Compiled IP reputation lists; absent means none. */
  readonly reputation?: ReputationLists | null;
  /** The live reputation layer over them (this isolate's cached copy); absent means none. */
  readonly liveLists?: { readonly index: LiveIndex | null } | null;
  /** Clock for the store latency metric; without it `storeMs` is null. */
  readonly now?: () => number;
  /** Experiments' stopped arms (per isolate) and the hasher for assignment; absent: no experiments. */
  readonly experiments?: ExperimentMonitor | null;
  readonly hasher?: Hasher;
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
  /**
   * This isolate's stand-in counters for when the store fails; absent: a failed store
   * leaves ladders and the token record uncounted (only the fail mode applies).
   */
  readonly fallback?: LocalCounters;
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
  /** Latency of the one store call (for metrics; never used to decide). */
  readonly storeMs: number | null;
}

/** Everything one request asks of the store, and where each part's answers sit. */
interface Batch {
  readonly signals: SignalPlan;
  readonly budgets: BudgetPlan;
  readonly ladders: LadderPlan;
  /** Index in `counts` of the CAPTCHA token record's first hit, or null without a token. */
  readonly recordAt: number | null;
  readonly request: ObserveRequest;
}

function planBatch(ctx: RequestContext, deps: PipelineDeps, prepared: PreparedCaptcha | null): Batch {
  const signals = planSignals(ctx, deps.ruleset);
  const budgets = planBudgets(deps.ruleset, ctx.geo?.country ?? "");
  const ladders = planLadders(deps.ruleset.ladders, ctx.keys);
  const record = deps.captcha == null || prepared === null ? [] : deps.captcha.recordHits(prepared);
  const hits = [...signals.observe.hits, ...budgets.hits, ...record];
  const recordAt = record.length === 0 ? null : signals.observe.hits.length + budgets.hits.length;
  return { signals, budgets, ladders, recordAt, request: { ...signals.observe, hits, limits: ladders.limits, penalties: ladders.penalties } };
}

/**
 * The one store call; a failure becomes a named dependency failure, never an exception.
 * On failure the ladders and the token record are counted locally (`local`), if the
 * isolate has local counters; signals and budgets stay unknown (a per-isolate count
 * would understate them).
 */
async function runBatch(
  store: Store,
  batch: Batch,
  now: (() => number) | undefined,
  fallback: LocalCounters | undefined,
): Promise<{ result: ObserveResult | null; local: LocalObserveResult | null; failures: Failure[]; storeMs: number | null }> {
  const started = now?.();
  const elapsed = () => (started === undefined || now === undefined ? null : now() - started);
  try {
    const result = await store.observe(batch.request);
    return { result, local: null, failures: [], storeMs: elapsed() };
  } catch (err) {
    const code = err instanceof StoreError ? err.code : "STORE_UNAVAILABLE";
    const storeMs = elapsed();
    if (fallback === undefined) return { result: null, local: null, failures: [{ dependency: "store", code }], storeMs };
    const { request } = batch;
    const record = batch.recordAt === null ? [] : request.hits.slice(batch.recordAt);
    const local = fallback.observe({ now: request.now, hits: record, limits: request.limits ?? [], penalties: request.penalties ?? [] });
    return { result: null, local, failures: [{ dependency: "store", code, fallback: "local-counters" }], storeMs };
  }
}

/** Decide one reset request; `captcha` carries the request's token and pass, if any. */
export async function decide(ctx: RequestContext, deps: PipelineDeps, captcha: CaptchaRequest | null = null): Promise<PipelineResult> {
  const { ruleset } = deps;
  const gate = deps.captcha ?? null;
  const binding = { ip: ctx.keys.ip, account: ctx.accountKey };
  const prepared = gate === null || captcha === null ? null : await gate.prepare(captcha, binding, ctx.ip?.address ?? null, ctx.now);
  const batch = planBatch(ctx, deps, prepared);
  const { result, local, failures, storeMs } = await runBatch(deps.store, batch, deps.now, deps.fallback);
  // Known blocked: nothing was read or counted, so nothing can be scored (counts are not 0).
  if (result?.blocked != null) return { ...blockedDecision(ctx, deps, batch.ladders, result.blocked, prepared), storeMs };
  const signalHits = batch.signals.observe.hits.length;
  const facts: Facts = {
    ...signalFacts(ctx, batch.signals, result, {
      lists: deps.reputation ?? null,
      live: deps.liveLists?.index ?? null,
      userAgentLimit: ruleset.spec.limits.user_agent_chars,
    }),
    budget: budgetCounts(batch.budgets, result === null ? null : result.counts.slice(signalHits, signalHits + batch.budgets.hits.length)),
  };
  // An operator's account block (live lists): a silent deny, with its own reason code.
  const accountBlocked = accountBlock(deps.liveLists?.index ?? null, ctx.keys.account, ctx.now) !== null;
  const input = { facts, accountKey: ctx.accountKey, failures, ...(accountBlocked ? { accountBlocked } : {}) };
  const live = await withExperiments(ctx, deps, input, outcomeFor(ruleset, input));
  const counted = result ?? local;
  const read = readLadders(batch.ladders, counted?.limits ?? [], counted?.penalties ?? [], ctx.now, recentBoxes(deps.boxes));
  const states = waiveCaptchas(read, ruleset.ladders, () => celValuesFor(ruleset, input));
  const summary = summariseLadders(states);
  rememberBoxes(deps.boxes, states);
  // Our own single-use record: from the local counters when the store failed (they hold
  // only the record's hits), unknown (null) when nothing counted it.
  const seen =
    batch.recordAt === null ? null
    : result !== null ? (result.counts[batch.recordAt] ?? 0) > 1
    : local !== null ? (local.counts[0] ?? 0) > 1
    : null;
  const captchaState: CaptchaState =
    gate !== null && prepared !== null && needsCaptcha(live, summary) ? await gate.check(prepared, seen) : { status: "none" };
  const decision = finalDecision(deps, live, escalate(live, summary, captchaState, failModeFor(ruleset, "captcha")));
  const candidate = deps.candidate == null ? null : summarise(deps.candidate, outcomeFor(deps.candidate, input), live);
  return {
    decision,
    facts,
    shadowReasons: live.shadowReasons,
    candidate,
    ladders: states,
    captcha: captchaState,
    prepared,
    penalize: summary.penalize,
    storeMs,
  };
}

function finalDecision(deps: PipelineDeps, live: Outcome, final: Escalated): Decision {
  return {
    id: deps.newId(),
    verdict: final.verdict,
    tier: live.tier,
    score: live.score,
    channel: final.channel,
    channels: final.channels,
    reasons: final.reasons,
    mode: "live",
    errors: final.errors,
    rulesetVersion: deps.ruleset.version,
    ...(final.retryAfter > 0 ? { retryAfter: final.retryAfter } : {}),
    ...(live.experiment === null ? {} : { experiment: { id: live.experiment.experiment, arm: live.experiment.arm } }),
  };
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
  return {
    decision,
    facts: {},
    shadowReasons: [],
    candidate: null,
    ladders: [state],
    captcha: { status: "none" },
    prepared,
    penalize: [],
    storeMs: null,
  };
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

/**
 * The outcome with experiment enrolment. Enrolment depends on the tier alone, so the
 * account's draw (an HMAC) is computed only when an experiment runs in the tier the
 * rules chose; every other request keeps the outcome without experiments, which is the
 * same outcome (no assignment) without the HMAC (BENCHMARKS.md, "Stage table").
 */
async function withExperiments(ctx: RequestContext, deps: PipelineDeps, input: OutcomeInput, base: Outcome): Promise<Outcome> {
  if (!activeExperiments(deps.ruleset.experiments, ctx.now).some((e) => e.tier === base.tier)) return base;
  const experiments = await experimentInput(ctx, deps);
  return experiments === null ? base : outcomeFor(deps.ruleset, { ...input, experiments });
}

/** Draws and stopped arms for the live rule set's running experiments (null: none run). */
async function experimentInput(ctx: RequestContext, deps: PipelineDeps): Promise<ExperimentInput | null> {
  const monitor = deps.experiments;
  if (monitor == null || deps.hasher === undefined || deps.ruleset.experiments.length === 0) return null;
  try {
    const draws = await drawsFor(deps.ruleset, ctx.accountKey, ctx.now, deps.hasher);
    return { now: ctx.now, draws, stopped: (id) => monitor.stopped(id, ctx.now) };
  } catch {
    // Without a draw there is no assignment: the request is simply not enrolled.
    return null;
  }
}
