/**
 * The screen stage, first on the request path: a client this isolate already knows to be
 * blocked (a 429 step of an IP or subnet ladder that bit, or a penalty box on one) is
 * answered 429 before its body is read. It costs one or two HMACs (the address, then its
 * subnet) and a cache lookup: no body, no device cookie, no store call, no scoring, no signing,
 * and no per-request audit event (refusals are tallied: src/reset/refusals.ts). A flood
 * from a blocked client therefore costs riskgate about what answering it costs at all
 * (BENCHMARKS.md, scenario d).
 *
 * Only ladders keyed on the address can be screened: the account and device are known
 * only after the body and cookies are read, and blocks on them are answered by the
 * pipeline from the same cache, still without a store call.
 */
import { type ClientIp, UNPARSEABLE_ADDRESS_KEY } from "../context/client-ip.ts";
import type { AddressKeys } from "../context/index.ts";
import type { Hasher } from "../context/hmac.ts";
import { cachedLadder, type CompiledLadder, type LadderPlan, type LadderState, planLadders } from "../scoring/policy/rate-limit.ts";
import type { BlockCache } from "../store/ephemeral.ts";
import type { CachedBlock, Store } from "../store/port.ts";

/** What screening needs (the gateway's parts). */
export interface ScreenDeps {
  readonly hasher: Hasher;
  readonly store: Store;
  readonly boxes: BlockCache;
  /** The rule set's ladders (the screen uses those `screenedLadders` picks). */
  readonly ladders: readonly CompiledLadder[];
}

/** A request refused by the screen: which ladder holds the client and for how long. */
export interface Refusal {
  readonly ladder: LadderState;
  /** HMAC of the blocked entity (the IP or subnet key), as the store keys it. */
  readonly entity: string;
  readonly retryAfterS: number;
}

/** The ladder keys an address alone determines. */
const ADDRESS_KINDS = new Set(["ip", "subnet", "net56", "net48"]);

const screenedOf = new WeakMap<readonly CompiledLadder[], readonly CompiledLadder[]>();

/** The ladders the screen can decide on: keyed on the address, with a 429 step or a box. */
export function screenedLadders(ladders: readonly CompiledLadder[]): readonly CompiledLadder[] {
  let screened = screenedOf.get(ladders);
  if (screened === undefined) {
    screened = ladders.filter(
      (l) => ADDRESS_KINDS.has(l.key) && (l.penalty !== null || l.steps.some((s) => s.action === "block")),
    );
    screenedOf.set(ladders, screened);
  }
  return screened;
}

/**
 * Per hasher (one per gateway), the address last refused by its own ladder and its key: a
 * flood from one blocked address hashes it once. One address, replaced by the next refused
 * one, never a list; it lives in the isolate's memory only, as the request's own copy does.
 */
const lastRefused = new WeakMap<
  Hasher,
  { readonly address: string; readonly key: string; readonly ladders: readonly CompiledLadder[]; readonly plan: LadderPlan }
>();

/** What the screen found: a refusal (answer 429) or null (go on), and the keys it hashed. */
export interface Screened {
  readonly refusal: Refusal | null;
  readonly keys: AddressKeys | null;
}

/** Screen a request by its client address alone (parsed once, by the caller, for both stages). */
export async function screen(ip: ClientIp | null, deps: ScreenDeps, now: number): Promise<Screened> {
  const ladders = screenedLadders(deps.ladders);
  if (ladders.length === 0) return { refusal: null, keys: null };
  // No usable address: every such request shares one key, screened like any address.
  if (ip === null) {
    const keys = { ip: UNPARSEABLE_ADDRESS_KEY, subnet: UNPARSEABLE_ADDRESS_KEY, net56: null, net48: null };
    return { refusal: refusalFor(ladders, keys, deps, now), keys };
  }
  // The address first: a flood from one blocked IP is refused without hashing its subnets,
  // and without hashing the address again while it is the last one refused.
  const last = lastRefused.get(deps.hasher);
  const remembered = last !== undefined && last.address === ip.address && last.ladders === ladders ? last : null;
  const ipKey = remembered?.key ?? (await deps.hasher.hash("ip", ip.address));
  const ipKeys = { ip: ipKey, subnet: null, net56: null, net48: null };
  const ipPlan = remembered?.plan ?? planFor(ladders, ipKeys);
  const byIp = refusalOf(ipPlan, ipKeys, deps, now);
  if (byIp !== null) {
    if (remembered === null) lastRefused.set(deps.hasher, { address: ip.address, key: ipKey, ladders, plan: ipPlan });
    return { refusal: byIp, keys: null };
  }
  const [subnet, net56, net48] = await Promise.all([
    deps.hasher.hash("subnet", ip.subnet),
    ip.net56 === null ? null : deps.hasher.hash("net56", ip.net56),
    ip.net48 === null ? null : deps.hasher.hash("net48", ip.net48),
  ]);
  const keys = { ip: ipKey, subnet, net56, net48 };
  return { refusal: refusalFor(ladders, keys, deps, now), keys };
}

/** The address keys a screen knows (subnets null until hashed). */
type ScreenKeys = { readonly ip: string; readonly subnet: string | null; readonly net56: string | null; readonly net48: string | null };

/** The ladder checks for the address keys known in `keys`. */
function planFor(ladders: readonly CompiledLadder[], keys: ScreenKeys): LadderPlan {
  return planLadders(ladders, { ...keys, account: null, device: null, asn: null });
}

/** The refusal for the ladders whose key is known in `keys`, or null. */
function refusalFor(ladders: readonly CompiledLadder[], keys: ScreenKeys, deps: ScreenDeps, now: number): Refusal | null {
  return refusalOf(planFor(ladders, keys), keys, deps, now);
}

/** The refusal `plan` (of `keys`) finds in the block caches, or null. */
function refusalOf(plan: LadderPlan, keys: ScreenKeys, deps: ScreenDeps, now: number): Refusal | null {
  const blocked = deps.store.cachedBlock({ now, limits: plan.limits, penalties: plan.penalties }) ?? boxedByThisIsolate(plan.penalties, deps.boxes, now);
  if (blocked === null) return null;
  const state = cachedLadder(plan, blocked, now, (key, at) => deps.boxes.blockedUntil(key, at));
  const entity = state.key === "subnet" || state.key === "net56" || state.key === "net48" ? keys[state.key] : keys.ip;
  return { ladder: state, entity: entity ?? keys.ip, retryAfterS: Math.max(1, Math.ceil(state.retryAfterMs / 1000)) };
}

/** A penalty box this isolate imposed and the store does not show yet (src/reset/decide.ts). */
function boxedByThisIsolate(penalties: readonly { key: string }[], boxes: BlockCache, now: number): CachedBlock | null {
  for (const { key } of penalties) {
    const until = boxes.blockedUntil(key, now);
    if (until !== null) return { key, kind: "penalty", until };
  }
  return null;
}
