/**
 * Rate-limit ladders: per key (account, IP, subnet, device, ASN, global), more requests
 * mean more friction: allow → CAPTCHA → 429 with Retry-After → a penalty box that grows
 * with repeated 429s and shrinks with good behaviour (docs/rate-limits.md).
 *
 * Pure. `planLadders` names the checks that ride in the request's one store batch
 * (`limits` and `penalties` of the port, so both adapters count the same way);
 * `readLadders` turns the answers into one state per ladder; `summariseLadders` into
 * what policy needs. Escalating a penalty (`penalize`) happens after the response.
 */
import type { Reason } from "../../shared/decision.ts";
import type { Condition } from "../rules/context-schema.ts";
import { durationMs } from "../rules/duration.ts";
import type { KeyKind, RulesetSpec } from "../rules/schema.ts";
import type {
  CachedBlock,
  PenaltyCheck,
  PenaltyPolicy,
  PenaltyState,
  PenaltyUpdate,
  RateLimitCheck,
  RateLimitResult,
} from "../../store/port.ts";

/** One rung: above `limit` requests per `windowMs`, `action` applies. */
export interface CompiledStep {
  readonly action: "captcha" | "block";
  readonly limit: number;
  readonly windowMs: number;
}

/** A ladder ready to plan. */
export interface CompiledLadder {
  readonly name: string;
  readonly key: KeyKind;
  /** When it holds, the ladder's CAPTCHA steps are waived (victim protection). */
  readonly unless: Condition | null;
  readonly steps: readonly CompiledStep[];
  readonly penalty: PenaltyPolicy | null;
}

/** Compile the rule file's `rate_limits` (conditions parsed with the rule set's CEL env). */
export function compileLadders(spec: RulesetSpec, parse: (when: string) => Condition): CompiledLadder[] {
  return Object.entries(spec.rate_limits).map(([name, l]) => ({
    name,
    key: l.key,
    unless: l.unless === undefined ? null : parse(l.unless),
    steps: l.steps.map((s) => ({ action: s.action, limit: s.limit, windowMs: durationMs(s.window) })),
    penalty:
      l.penalty === undefined
        ? null
        : {
            baseMs: durationMs(l.penalty.base),
            factor: l.penalty.factor,
            maxMs: durationMs(l.penalty.max),
            decayMs: durationMs(l.penalty.decay),
          },
  }));
}

/** A ladder that applies to this request, with where its checks sit in the batch. */
interface PlannedLadder {
  readonly ladder: CompiledLadder;
  /** Indexes into `LadderPlan.limits`, in step order. */
  readonly limits: readonly number[];
  /** Index into `LadderPlan.penalties`, or null without a penalty. */
  readonly penalty: number | null;
  readonly penaltyKey: string;
}

/** The ladder checks for one request, in the port's shapes. */
export interface LadderPlan {
  readonly limits: readonly RateLimitCheck[];
  readonly penalties: readonly PenaltyCheck[];
  readonly ladders: readonly PlannedLadder[];
}

/** The request's hashed entity keys (the context's `EntityKeys`; kept structural so the CLI can compile this). */
export type LadderKeys = Readonly<Record<Exclude<KeyKind, "global">, string | null>>;

function entityKey(keys: LadderKeys, kind: KeyKind): string | null {
  return kind === "global" ? "global" : keys[kind];
}

/** Store key of a ladder step's counter (step index included: two steps never share one). */
export function stepKey(ladder: string, step: number, entity: string): string {
  return `rl:${ladder}.${step}:${entity}`;
}

/** Store key of a ladder's penalty box. */
export function penaltyKey(ladder: string, entity: string): string {
  return `pen:${ladder}:${entity}`;
}

/** What lifting one key's penalty boxes clears: each ladder's box and step windows. */
export interface LiftPlan {
  readonly ladders: readonly string[];
  readonly penalties: readonly string[];
  readonly limits: readonly { readonly key: string; readonly limit: number; readonly windowMs: number }[];
  /** The longest an isolate may hold a block for the key: the longest box (penalty.max) or step window. */
  readonly reachMs: number;
}

/**
 * The store keys to clear when an operator lifts the boxes of `entity` (an HMAC'd key of
 * `kind`): on every ladder counting that kind, the penalty box and every step's window,
 * so the key starts the ladder afresh (a cleared box under a full block step would only
 * be refused and boxed again by the next request).
 */
export function liftPlan(ladders: readonly CompiledLadder[], kind: KeyKind, entity: string): LiftPlan {
  const on = ladders.filter((l) => l.key === kind);
  return {
    ladders: on.map((l) => l.name),
    penalties: on.flatMap((l) => (l.penalty === null ? [] : [penaltyKey(l.name, entity)])),
    limits: on.flatMap((l) => l.steps.map((step, i) => ({ key: stepKey(l.name, i, entity), limit: step.limit, windowMs: step.windowMs }))),
    reachMs: Math.max(0, ...on.flatMap((l) => [l.penalty?.maxMs ?? 0, ...l.steps.map((step) => step.windowMs)])),
  };
}

/**
 * The checks this request needs. Ladders on an entity the request lacks (no IP, no ASN)
 * are skipped. A `block` step and the penalty are cached in the isolate once they bite,
 * so a blocked client costs no store call; CAPTCHA steps never are (a user who solved
 * the CAPTCHA must not stay blocked).
 */
export function planLadders(ladders: readonly CompiledLadder[], keys: LadderKeys): LadderPlan {
  const limits: RateLimitCheck[] = [];
  const penalties: PenaltyCheck[] = [];
  const planned: PlannedLadder[] = [];
  for (const ladder of ladders) {
    const entity = entityKey(keys, ladder.key);
    if (entity === null) continue;
    const indexes = ladder.steps.map((step, i) => {
      limits.push({ key: stepKey(ladder.name, i, entity), limit: step.limit, windowMs: step.windowMs, cache: step.action === "block" });
      return limits.length - 1;
    });
    const key = penaltyKey(ladder.name, entity);
    let penalty: number | null = null;
    if (ladder.penalty !== null) {
      penalties.push({ key, policy: ladder.penalty, cache: true });
      penalty = penalties.length - 1;
    }
    planned.push({ ladder, limits: indexes, penalty, penaltyKey: key });
  }
  return { limits, penalties, ladders: planned };
}

/** Where a ladder stands for this request. */
export type LadderStep = "allow" | "captcha" | "block" | "penalty";

/** One ladder's state after the store answered. */
export interface LadderState {
  readonly name: string;
  readonly key: KeyKind;
  readonly step: LadderStep;
  /** Milliseconds until a retry can succeed (block, penalty); 0 otherwise. */
  readonly retryAfterMs: number;
  /** Penalty level after decay, before this request's escalation. */
  readonly level: number;
  /** The escalation to apply after the response (a block step bit and the ladder has a penalty). */
  readonly penalize: PenaltyUpdate | null;
  /** True when `unless` held and waived a CAPTCHA step. */
  readonly waived: boolean;
}

/** The box the next violation earns at `level` (the store's arithmetic: src/store/penalty.ts). */
export function nextBoxMs(policy: PenaltyPolicy, level: number): number {
  return Math.floor(Math.min(policy.maxMs, policy.baseMs * policy.factor ** level) + 0.5);
}

/** Boxes this isolate imposed whose escalation may not have reached the store yet: penalty key → until. */
export type RecentBoxes = (penaltyKey: string, now: number) => number | null;

function readOne(p: PlannedLadder, limits: readonly (RateLimitResult | undefined)[], box: PenaltyState | undefined, now: number, recent: RecentBoxes): LadderState {
  const { ladder } = p;
  const level = box?.level ?? 0;
  const state = (step: LadderStep, retryAfterMs: number, penalize: PenaltyUpdate | null): LadderState =>
    ({ name: ladder.name, key: ladder.key, step, retryAfterMs, level, penalize, waived: false });
  const until = Math.max(box?.until ?? 0, ladder.penalty === null ? 0 : (recent(p.penaltyKey, now) ?? 0));
  if (until > now) return state("penalty", until - now, null);
  let blockReset = 0;
  let captcha = false;
  for (let i = 0; i < p.limits.length; i++) {
    const result = limits[p.limits[i] ?? -1];
    // Adapters answer every check (contract suite); a missing answer only comes from a test double.
    if (result === undefined || result.success) continue;
    if (ladder.steps[i]?.action === "block") blockReset = Math.max(blockReset, result.reset);
    else captcha = true;
  }
  if (blockReset === 0) return state(captcha ? "captcha" : "allow", 0, null);
  const policy = ladder.penalty;
  if (policy === null) return state("block", blockReset - now, null);
  return state("block", Math.max(blockReset - now, nextBoxMs(policy, level)), { key: p.penaltyKey, now, policy });
}

/** Each planned ladder's state from the store's answers (aligned with the plan). */
export function readLadders(
  plan: LadderPlan,
  limits: readonly RateLimitResult[],
  penalties: readonly PenaltyState[],
  now: number,
  recent: RecentBoxes = () => null,
): LadderState[] {
  return plan.ladders.map((p) => readOne(p, limits, p.penalty === null ? undefined : penalties[p.penalty], now, recent));
}

/**
 * The state of the ladder whose cached block short-circuited the store call: nothing
 * was read or counted, so the request is answered 429 until `blocked.until`.
 */
export function cachedLadder(plan: LadderPlan, blocked: CachedBlock, now: number, recent: RecentBoxes = () => null): LadderState {
  const owner = plan.ladders.find(
    (p) => p.penaltyKey === blocked.key || p.limits.some((i) => plan.limits[i]?.key === blocked.key),
  );
  // A cached 429 knows when its window resets; a box imposed meanwhile may last longer.
  const box = owner === undefined || owner.ladder.penalty === null ? null : recent(owner.penaltyKey, now);
  return {
    name: owner?.ladder.name ?? "unknown",
    key: owner?.ladder.key ?? "global",
    step: blocked.kind === "penalty" || (box ?? 0) > blocked.until ? "penalty" : "block",
    retryAfterMs: Math.max(0, blocked.until - now, (box ?? 0) - now),
    level: 0,
    penalize: null,
    waived: false,
  };
}

/** Apply each ladder's `unless`: a CAPTCHA step is waived when it holds (429 and boxes never are). */
export function waiveCaptchas(
  states: readonly LadderState[],
  ladders: readonly CompiledLadder[],
  values: Record<string, unknown> | (() => Record<string, unknown>),
): LadderState[] {
  // CEL values are built only when a CAPTCHA step bit (the common request pays nothing).
  let built: Record<string, unknown> | null = typeof values === "function" ? null : values;
  const get = () => {
    built ??= (values as () => Record<string, unknown>)();
    return built;
  };
  return states.map((state) => {
    if (state.step !== "captcha") return state;
    const test = ladders.find((l) => l.name === state.name)?.unless ?? null;
    if (test === null) return state;
    let holds: unknown = false;
    try {
      holds = test(get());
    } catch {
      // A condition that throws waives nothing: the CAPTCHA stays (fail towards friction).
      holds = false;
    }
    return holds === true ? { ...state, step: "allow", waived: true } : state;
  });
}

/** What policy needs from all ladders together. */
export interface LadderSummary {
  /** The strictest step across ladders. */
  readonly step: LadderStep;
  /** Whole seconds for `Retry-After` (block, penalty); 0 otherwise. */
  readonly retryAfter: number;
  /** One weight-0 reason per ladder that is not at `allow`. */
  readonly reasons: readonly Reason[];
  /** Escalations to apply after the response. */
  readonly penalize: readonly PenaltyUpdate[];
}

const RANK: Record<LadderStep, number> = { allow: 0, captcha: 1, block: 2, penalty: 3 };
const CODE = { captcha: "RATE_LIMIT_CHALLENGE", block: "RATE_LIMIT_EXCEEDED", penalty: "PENALTY_BOX" } as const;

/** Combine ladder states: the strictest step wins; Retry-After is the longest wait among 429 steps. */
export function summariseLadders(states: readonly LadderState[]): LadderSummary {
  let step: LadderStep = "allow";
  let waitMs = 0;
  const reasons: Reason[] = [];
  const penalize: PenaltyUpdate[] = [];
  for (const s of states) {
    if (RANK[s.step] > RANK[step]) step = s.step;
    if (s.step === "allow") continue;
    reasons.push({ code: CODE[s.step], rule: `rate_limits.${s.name}`, weight: 0 });
    if (s.step === "block" || s.step === "penalty") waitMs = Math.max(waitMs, s.retryAfterMs);
    if (s.penalize !== null) penalize.push(s.penalize);
  }
  // Retry-After is whole seconds; round up so a client that obeys it is not refused again.
  const retryAfter = step === "block" || step === "penalty" ? Math.max(1, Math.ceil(waitMs / 1000)) : 0;
  return { step, retryAfter, reasons, penalize };
}
