/**
 * Everything a request needs that is built once per isolate from `env`: config,
 * compiled rules, store adapter, keys and hasher. Configuration errors surface here,
 * on the first request, with the problem named in the log.
 */
import { type CaptchaGate, createCaptchaGate } from "../captcha/gate.ts";
import { type Config, readConfig } from "./config.ts";
import { bundledGeo } from "../context/bundled-geo.ts";
import { createGeoResolver, type GeoResolver, readGeoSource } from "../context/geo.ts";
import { createHasher, type Hasher } from "../context/hmac.ts";
import type { WorkerEnv } from "./env.ts";
import { ConfigError } from "../shared/errors.ts";
import { createAdminAuth, type AdminAuth } from "../admin/auth.ts";
import { readAdminConfig } from "../admin/config.ts";
import type { Auditor } from "../audit/auditor.ts";
import { consoleSink, type LogSink } from "../audit/decision-log.ts";
import { ExperimentMonitor } from "../scoring/experiments/monitor.ts";
import { auditHub, auditHubs, createGatewayAuditor } from "./auditor.ts";
import type { RiskgateAuditHub } from "../audit/hub/object.ts";
import type { AuditHubs } from "../audit/hub/shards.ts";
import { loadSigningKeys, type SigningKeys } from "../origin/signing-keys.ts";
import { loadOutcomeKeys, type OutcomeKeys } from "../outcomes/keys.ts";
import { bundledCandidate, bundledRuleset } from "../scoring/ruleset/bundled.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import { liftPlan } from "../scoring/policy/rate-limit.ts";
import type { KeyKind } from "../scoring/rules/schema.ts";
import { bundledLists } from "../scoring/signals/bundled-lists.ts";
import type { ReputationLists } from "../scoring/signals/ip-reputation.ts";
import { LiveListCache } from "../scoring/signals/live-lists.ts";
import type { LiveLayer, LiveLift } from "../shared/live-list.ts";
import { DurableObjectStore } from "../store/durable-object-store.ts";
import { BlockCache, forgetBlocks } from "../store/ephemeral.ts";
import { LocalCounters } from "../store/fallback.ts";
import type { Store } from "../store/port.ts";
import type { QueuedForward } from "../reset/queue-seal.ts";
import { RefusalTally } from "../reset/refusals.ts";
import { UpstashStore } from "../store/upstash.ts";

/** The per-isolate dependencies of the request path. Tests build their own. */
export interface Gateway {
  readonly config: Config;
  readonly ruleset: CompiledRuleset;
  /** The shadow candidate (rules/candidate/), or null when none is bundled. */
  readonly candidate: CompiledRuleset | null;
  readonly store: Store;
  readonly keys: SigningKeys;
  readonly hasher: Hasher;
  readonly fetcher: typeof fetch;
  readonly now: () => number;
  readonly newId: () => string;
  readonly log: LogSink;
  /** This isolate's view of stopped experiment arms (docs/experiments.md); null without experiments. */
  readonly experiments: ExperimentMonitor | null;
  /** Geo for a request: request.cf and/or the bundled database, per GEO_SOURCE. */
  readonly geo: GeoResolver;
  /** Compiled IP reputation lists (rules/lists/). */
  readonly reputation: ReputationLists;
  /** The live layer over them (operators' entries in the audit hub), cached per isolate. */
  readonly liveLists: LiveListCache;
  /** Keys that verify the origin's outcome reports; null when outcomes are not configured. */
  readonly outcomeKeys: OutcomeKeys | null;
  /** The audit trail: `emit` events after the response (inside waitUntil). docs/audit.md. */
  readonly audit: Auditor;
  /** Admin authentication for /__riskgate/*. */
  readonly admin: AdminAuth;
  /** Audit hub shard 0: the live lists' home (src/admin/lists.ts). */
  readonly hub: () => DurableObjectStub<RiskgateAuditHub>;
  /** Every audit hub shard (recent events, metrics, outbox), merged: what the admin API reads. */
  readonly hubs: AuditHubs;
  /** The CAPTCHA step (provider, siteverify, passes); null with CAPTCHA_PROVIDER=none. */
  readonly captcha: CaptchaGate | null;
  /** Penalty boxes this isolate imposed, until the store shows them (src/reset/decide.ts). */
  readonly boxes: BlockCache;
  /** Ladders, penalty boxes and token records counted here while the store is down (src/store/fallback.ts). */
  readonly fallback: LocalCounters;
  /** The screen stage's refusals, tallied into `ratelimit.refused` events. */
  readonly refusals: RefusalTally;
  /** Where failed forwards go for retries (`RESET_QUEUE`); null: retried within waitUntil. */
  readonly resetQueue: Queue<QueuedForward> | null;
}

/** Build the gateway for `env`. Throws ConfigError on unusable configuration. */
export async function createGateway(env: WorkerEnv): Promise<Gateway> {
  const config = readConfig(env);
  const ruleset = bundledRuleset();
  // The store's block cache, the boxes and the local counters are built here so that an
  // operator's lift read from the live layer can clear them (forgetLift).
  const blocks = new BlockCache();
  const store = createStore(env, config, ruleset, blocks);
  const boxes = new BlockCache();
  const fallback = new LocalCounters();
  const keys = await loadSigningKeys(config.signingKeysJson);
  const hasher = await createHasher(config.hmacSecret);
  const fetcher: typeof fetch = (input, init) => fetch(input, init);
  const now = () => Date.now();
  const newId = () => crypto.randomUUID();
  const audit = createGatewayAuditor(env, { ruleset, keys, now, newId });
  return {
    config,
    ruleset,
    candidate: bundledCandidate(),
    store,
    keys,
    hasher,
    fetcher,
    now,
    newId,
    log: consoleSink,
    experiments: ruleset.experiments.length === 0 ? null : new ExperimentMonitor(ruleset, store),
    geo: createGeoResolver(readGeoSource(env.GEO_SOURCE), config.development, bundledGeo, true),
    reputation: bundledLists(),
    liveLists: new LiveListCache(
      async (known) => (await auditHub(env).liveLayer(known)) as LiveLayer | null,
      (lift) => forgetLift(lift, { ruleset, blocks, boxes, fallback, now: now() }),
    ),
    outcomeKeys: loadOutcomeKeys(env.OUTCOME_VERIFY_KEYS, config.development),
    audit,
    admin: await createAdminAuth(readAdminConfig(env)),
    hub: () => auditHub(env),
    hubs: auditHubs(env),
    captcha:
      config.captcha === null
        ? null
        : await createCaptchaGate({ config: config.captcha, settings: ruleset.captcha, hasher, fetcher, newKey: newId }),
    boxes,
    fallback,
    refusals: new RefusalTally({ newId }),
    resetQueue: (env.RESET_QUEUE as Queue<QueuedForward> | undefined) ?? null,
  };
}

/**
 * Drop what this isolate remembers of a key an operator lifted in another isolate (read from
 * the live layer): the store's cached blocks, the boxes it imposed, its local counters. The
 * store itself was cleared by the lift; the next request for the key asks it afresh.
 */
export function forgetLift(
  lift: LiveLift,
  parts: { ruleset: CompiledRuleset; blocks: BlockCache; boxes: BlockCache; fallback: LocalCounters; now: number },
): void {
  const plan = liftPlan(parts.ruleset.ladders, lift.kind as KeyKind, lift.entity);
  const cleared = { now: parts.now, penalties: plan.penalties, limits: plan.limits };
  forgetBlocks(parts.blocks, cleared);
  for (const key of plan.penalties) parts.boxes.delete(key);
  parts.fallback.lift(cleared);
}

/** The configured store adapter (docs/store.md: how to choose); `cache` is its block cache. */
export function createStore(env: WorkerEnv, config: Config, ruleset: CompiledRuleset, cache: BlockCache = new BlockCache()): Store {
  // STORE_TIMEOUT_MS, when set, wins over the rule file's `store.timeout`.
  const timeoutMs = config.storeTimeoutMs ?? ruleset.storeTimeoutMs;
  if (config.upstash !== null) {
    return new UpstashStore({ ...config.upstash, timeoutMs, cache });
  }
  return new DurableObjectStore({
    namespace: env.RISKGATE_STORE,
    shards: config.storeShards,
    timeoutMs,
    cache,
  });
}

const gateways = new WeakMap<WorkerEnv, Promise<Gateway>>();

/** The gateway for `env`, built once and shared (a failed build is retried next time). */
export function gatewayFor(env: WorkerEnv): Promise<Gateway> {
  let gateway = gateways.get(env);
  if (gateway === undefined) {
    gateway = createGateway(env);
    gateways.set(env, gateway);
    gateway.catch((err: unknown) => {
      gateways.delete(env);
      if (err instanceof ConfigError) console.error(JSON.stringify({ type: "riskgate.config_error", message: err.message }));
    });
  }
  return gateway;
}
