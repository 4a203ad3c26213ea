/**
 * All signals for one request: a store plan before the batch, facts after it.
 * Nothing here performs I/O; the pipeline runs the one store call in between.
 */
import type { RequestContext } from "../context/index.ts";
import type { CompiledRuleset } from "../rules/compile.ts";
import type { Facts } from "../rules/context-schema.ts";
import type { ObserveRequest, ObserveResult } from "../store/port.ts";
import { deviceFacts } from "./device.ts";
import { geoFacts } from "./geo.ts";
import { planVelocity, type VelocityPlan, velocityFacts } from "./velocity.ts";

/** The store request plus what is needed to read its answer. */
export interface SignalPlan {
  readonly observe: ObserveRequest;
  readonly velocity: VelocityPlan;
}

/** What to ask the store for this request. */
export function planSignals(ctx: RequestContext, ruleset: CompiledRuleset): SignalPlan {
  const velocity = planVelocity(ctx.keys, ruleset.windows, ruleset.distinct);
  return {
    velocity,
    observe: {
      now: ctx.now,
      hits: velocity.hits,
      distinct: velocity.distinct,
      historyKey: `h:${ctx.keys.account}`,
    },
  };
}

/** Facts for rules. `result` is null when the store failed: counts read as 0, history as none. */
export function signalFacts(ctx: RequestContext, plan: SignalPlan, result: ObserveResult | null): Facts {
  const history = result?.history ?? null;
  const { velocity, distinct } = velocityFacts(plan.velocity, result?.counts ?? [], result?.distinct ?? []);
  return {
    request: { path: ctx.route.path, method: ctx.route.method },
    ip: { known: ctx.ip !== null, version: ctx.ip?.version ?? 0 },
    device: { ...deviceFacts(ctx.userAgent, ctx.keys.device, history?.devices ?? []) },
    geo: { ...geoFacts(ctx.geo, history, ctx.now) },
    account: { has_history: history !== null },
    velocity,
    distinct,
  };
}
