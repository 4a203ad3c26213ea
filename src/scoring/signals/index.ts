/**
 * All signals for one request: a store plan before the batch, facts after it.
 * Nothing here performs I/O; the pipeline runs the one store call in between.
 */
import type { RequestContext } from "../../context/index.ts";
import type { CompiledCore } from "../rules/compiled.ts";
import type { Facts } from "../rules/context-schema.ts";
import type { ObserveRequest, ObserveResult } from "../../store/port.ts";
import { accountFacts } from "./account.ts";
import { type CompletionPlan, completionFacts, planCompletion } from "./completion.ts";
import { deviceFacts, parseUa } from "./device.ts";
import { geoFacts } from "./geo.ts";
import { headerFacts } from "./headers.ts";
import { type ReputationLists, reputationFacts } from "./ip-reputation.ts";
import type { LiveIndex } from "../../shared/live-list.ts";
import { planVelocity, type VelocityPlan, velocityFacts } from "./velocity.ts";

/** The store request plus what is needed to read its answer. */
export interface SignalPlan {
  readonly observe: ObserveRequest;
  readonly velocity: VelocityPlan;
  /** The completion-rate probes, after the velocity distinct adds in `observe.distinct`. */
  readonly completion: CompletionPlan;
}

/** The store key of an account's history (hashed account key inside). */
export function historyKey(accountKey: string): string {
  return `h:${accountKey}`;
}

/** What to ask the store for this request. */
export function planSignals(ctx: RequestContext, ruleset: CompiledCore): SignalPlan {
  const velocity = planVelocity(ctx.keys, ruleset.windows, ruleset.distinct);
  // Completion rates ride in the same batch (src/scoring/signals/completion.ts).
  const completion = planCompletion(ctx.geo?.country ?? "", ctx.geo?.asn ?? 0);
  return {
    velocity,
    completion,
    observe: {
      now: ctx.now,
      hits: velocity.hits,
      distinct: [...velocity.distinct, ...completion.distinct],
      historyKey: historyKey(ctx.accountKey),
      // The roster holds velocity forms, so a respelling of an address finds its account.
      rosterKey: ctx.keys.account,
    },
  };
}

/** Per-isolate data the signals read besides the context. */
export interface SignalData {
  /** The compiled reputation lists (build/lists.bin); null when none are bundled. */
  readonly lists: ReputationLists | null;
  /** The live reputation layer this isolate last read (docs/architecture.md); null: none yet. */
  readonly live?: LiveIndex | null;
  /** The rule file's `limits.user_agent_chars`, to tell a truncated UA. */
  readonly userAgentLimit: number;
}

const NO_DATA: SignalData = { lists: null, userAgentLimit: Number.POSITIVE_INFINITY };

/** Facts for rules. `result` is null when the store failed: counts read as 0, history as none. */
export function signalFacts(
  ctx: RequestContext,
  plan: SignalPlan,
  result: ObserveResult | null,
  data: SignalData = NO_DATA,
): Facts {
  const history = result?.history ?? null;
  const { velocity, distinct } = velocityFacts(plan.velocity, result?.counts ?? [], result?.distinct ?? []);
  const ua = parseUa(ctx.userAgent);
  return {
    request: { path: ctx.route.path, method: ctx.route.method },
    ip: {
      known: ctx.ip !== null,
      version: ctx.ip?.version ?? 0,
      ...reputationFacts(data.lists, ctx.ip, ctx.geo?.asn ?? 0, ctx.now, data.live ?? null, ctx.geo?.country ?? null),
    },
    device: { ...deviceFacts(ctx.userAgent, ctx.device, history?.devices ?? []) },
    headers: { ...headerFacts(ctx.headers, ua, data.userAgentLimit, ctx.userAgent) },
    geo: { ...geoFacts(ctx.geo, history, ctx.now) },
    account: { ...accountFacts(history, ctx.now, result === null ? "unanswered" : (result.roster ?? "off")) },
    velocity,
    distinct,
    completion: { ...completionFacts(plan.completion, (result?.distinct ?? []).slice(plan.velocity.distinct.length)) },
  };
}
