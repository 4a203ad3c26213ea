/**
 * The request path after context: signals → rules → policy → decision, in one
 * direction. The only I/O is the single store batch; its failure becomes a named
 * fail mode in the decision's `errors`, never an accidental allow.
 *
 * Shadow mode: when a candidate rule set is bundled, it decides on the same facts
 * (no second store call) and its outcome goes to the decision log only.
 */
import type { RequestContext } from "./context/index.ts";
import type { Hasher } from "./context/hmac.ts";
import type { Decision, Reason } from "./decision.ts";
import { type ExperimentInput, drawsFor } from "./experiments/assign.ts";
import type { ExperimentMonitor } from "./experiments/monitor.ts";
import { type Failure, type Outcome, outcomeFor } from "./outcome.ts";
import { budgetCounts, planBudgets } from "./policy/channels.ts";
import type { CompiledRuleset } from "./rules/compile.ts";
import type { Facts } from "./rules/context-schema.ts";
import { planSignals, signalFacts } from "./signals/index.ts";
import type { ReputationLists } from "./signals/ip-reputation.ts";
import { type ObserveResult, type Store, StoreError } from "./store/port.ts";

/** What deciding needs. */
export interface PipelineDeps {
  readonly ruleset: CompiledRuleset;
  /** The shadow candidate, if one is bundled. */
  readonly candidate?: CompiledRuleset | null;
  readonly store: Store;
  readonly newId: () => string;
  /** Experiments' stopped arms (per isolate) and the hasher for assignment; absent: no experiments. */
  readonly experiments?: ExperimentMonitor | null;
  readonly hasher?: Hasher;
  /** Compiled IP reputation lists; absent means none. */
  readonly reputation?: ReputationLists | null;
  /** Clock for the store latency metric; without it `storeMs` is null. */
  readonly now?: () => number;
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
  /** Latency of the one store call (for metrics; never used to decide). */
  readonly storeMs: number | null;
}

/** Decide one reset request. */
export async function decide(ctx: RequestContext, deps: PipelineDeps): Promise<PipelineResult> {
  const { ruleset, store } = deps;
  const plan = planSignals(ctx, ruleset);
  const budgets = planBudgets(ruleset, ctx.geo?.country ?? "");
  const signalHits = plan.observe.hits.length;
  // Assignment hashes run while the store batch is in flight: no added latency.
  const drawing = experimentInput(ctx, deps);
  const failures: Failure[] = [];
  let result: ObserveResult | null = null;
  const storeStarted = deps.now?.();
  try {
    result = await store.observe({ ...plan.observe, hits: [...plan.observe.hits, ...budgets.hits] });
  } catch (err) {
    failures.push({ dependency: "store", code: err instanceof StoreError ? err.code : "STORE_UNAVAILABLE" });
  }
  const storeMs = storeStarted === undefined || deps.now === undefined ? null : deps.now() - storeStarted;
  const facts: Facts = {
    ...signalFacts(ctx, plan, result, {
      lists: deps.reputation ?? null,
      userAgentLimit: ruleset.spec.limits.user_agent_chars,
    }),
    budget: budgetCounts(budgets, result === null ? null : result.counts.slice(signalHits)),
  };
  const input = { facts, accountKey: ctx.keys.account, failures };
  const experiments = await drawing;
  const live = outcomeFor(ruleset, experiments === null ? input : { ...input, experiments });
  const decision: Decision = {
    id: deps.newId(),
    verdict: live.verdict,
    tier: live.tier,
    score: live.score,
    channel: live.channel,
    channels: live.channels,
    reasons: live.reasons,
    mode: "live",
    errors: live.errors,
    rulesetVersion: ruleset.version,
    ...(live.experiment === null ? {} : { experiment: { id: live.experiment.experiment, arm: live.experiment.arm } }),
  };
  const candidate = deps.candidate == null ? null : summarise(deps.candidate, outcomeFor(deps.candidate, input), live);
  return { decision, facts, shadowReasons: live.shadowReasons, candidate, storeMs };
}

/** Draws and stopped arms for the live rule set's running experiments (null: none run). */
async function experimentInput(ctx: RequestContext, deps: PipelineDeps): Promise<ExperimentInput | null> {
  const monitor = deps.experiments;
  if (monitor == null || deps.hasher === undefined || deps.ruleset.experiments.length === 0) return null;
  try {
    const draws = await drawsFor(deps.ruleset, ctx.keys.account, ctx.now, deps.hasher);
    return { now: ctx.now, draws, stopped: (id) => monitor.stopped(id, ctx.now) };
  } catch {
    // Without a draw there is no assignment: the request is simply not enrolled.
    return null;
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
