/**
 * Lift a penalty box (docs/operations.md, "Lift a penalty box"), behind admin auth:
 *
 *   POST /__riskgate/api/penalty/lift   {key, reason, source?}
 *
 * `key` is an IP, a subnet (IPv4 /24; IPv6 /64, /56, /48), an account address or
 * `device:<key>` (src/admin/targets.ts). Every ladder on that kind of key has its box
 * and its step windows cleared (liftPlan) in the store, in this isolate's local counters
 * and in its caches, so this isolate's next request for the key is decided afresh; the
 * lift is also recorded in the live layer (audit hub shard 0), so every other isolate
 * drops its cached blocks for the key on its next refresh (within LIVE_REFRESH_MS).
 * Each lift is a `penalty.lifted` audit event.
 */
import { Hono } from "hono";
import type { PenaltyLiftedData } from "../audit/events.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { liftPlan } from "../scoring/policy/rate-limit.ts";
import type { Env } from "../shared/env.ts";
import { RiskgateError } from "../shared/errors.ts";
import { MAX_REASON_CHARS } from "../shared/live-list.ts";
import { StoreError } from "../store/port.ts";
import { jsonBody, str } from "./json.ts";
import { liftKeyOf } from "./targets.ts";

type AdminEnv = { Bindings: Env; Variables: { gateway: Gateway } };

/** The penalty sub-app, mounted at /__riskgate/api/penalty (after requireAdmin). */
export function penaltyRoutes(): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  app.post("/lift", async (c) => {
    const gateway = c.var.gateway;
    const body = await jsonBody(c);
    const reason = (str(body.reason) ?? "").replace(/\p{Cc}/gu, " ").trim().slice(0, MAX_REASON_CHARS);
    if (reason.length === 0) throw new RiskgateError("ERR_BAD_REQUEST", "a reason is required");
    const source = str(body.source) ?? "api";
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(source)) throw new RiskgateError("ERR_BAD_REQUEST", "malformed source");
    const key = await liftKeyOf(gateway.hasher, str(body.key) ?? "");
    const plan = liftPlan(gateway.ruleset.ladders, key.kind, key.entity);
    if (plan.ladders.length === 0) {
      throw new RiskgateError("ERR_BAD_REQUEST", `no rate-limit ladder counts ${key.kind} keys in this rule set (rules/policy.yaml)`);
    }
    const now = gateway.now();
    const lift = { now, penalties: plan.penalties, limits: plan.limits };
    // This isolate first (no I/O), then the store; a store failure is a 503, not a silent half-lift.
    for (const p of plan.penalties) gateway.boxes.delete(p);
    const local = gateway.fallback.lift(lift);
    let stored: number;
    try {
      stored = await gateway.store.liftPenalty(lift);
    } catch (err) {
      const code = err instanceof StoreError ? err.code : "STORE_UNAVAILABLE";
      throw new RiskgateError("ERR_STORE_UNAVAILABLE", `penalty not lifted in the store (${code}); retry`, { "retry-after": "5" });
    }
    try {
      await gateway.hub().recordLift({ kind: key.kind, entity: key.entity, lifted_at: now, expires_at: now + plan.reachMs });
    } catch {
      // Lifted in the store and here; other isolates may answer 429 from memory until the box ends. A retry is safe.
      throw new RiskgateError("ERR_STORE_UNAVAILABLE", "penalty lifted in the store, but other isolates were not told (LIVE_LISTS_UNAVAILABLE); retry", {
        "retry-after": "5",
      });
    }
    const data: PenaltyLiftedData = { kind: key.kind, target: key.target, ladders: plan.ladders, boxed: Math.max(stored, local), reason, source };
    c.executionCtx.waitUntil(gateway.audit.emit({ type: "penalty.lifted", request_id: gateway.newId(), decision_id: null, data }));
    return c.json({ status: "lifted", ...data });
  });
  return app;
}
