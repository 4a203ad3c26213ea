/**
 * Penalty-box arithmetic shared by the adapters (the Upstash adapter's Lua script
 * mirrors `escalate`; the contract suite holds both to the same sequences).
 *
 * A key's state is a level and the end of its current box. Each violation adds a level
 * and boxes the key for `base * factor^(level-1)`, capped at `max`. Each `decay` that
 * passes after the box ends without a new violation forgets one level, so a user who
 * behaves returns to the first rung; a persistent attacker climbs to the cap.
 */
import type { PenaltyPolicy, PenaltyState } from "./port.ts";

/** Levels beyond this no longer change the box (it is at the cap long before). */
export const MAX_PENALTY_LEVEL = 64;

/** The state as stored: `until` may be in the past. */
export interface StoredPenalty {
  readonly level: number;
  readonly until: number;
}

/** The level after decay at `now`. */
export function decayedLevel(stored: StoredPenalty, now: number, policy: PenaltyPolicy): number {
  if (stored.level <= 0) return 0;
  if (now < stored.until) return stored.level;
  return Math.max(0, stored.level - Math.floor((now - stored.until) / policy.decayMs));
}

/** What a read at `now` reports. */
export function readPenalty(stored: StoredPenalty | null, now: number, policy: PenaltyPolicy): PenaltyState {
  if (stored === null) return { level: 0, until: 0 };
  return { level: decayedLevel(stored, now, policy), until: stored.until > now ? stored.until : 0 };
}

/** One more violation at `now`; `expiresAt` is when the stored state may be dropped. */
export function escalate(
  stored: StoredPenalty | null,
  now: number,
  policy: PenaltyPolicy,
): { readonly state: PenaltyState; readonly expiresAt: number } {
  const level = Math.min(MAX_PENALTY_LEVEL, (stored === null ? 0 : decayedLevel(stored, now, policy)) + 1);
  const box = Math.min(policy.maxMs, policy.baseMs * policy.factor ** (level - 1));
  const current = stored !== null && stored.until > now ? stored.until : 0;
  const until = Math.max(current, now + Math.floor(box + 0.5));
  // After `level` decays the state is back to zero: nothing left worth keeping.
  return { state: { level, until }, expiresAt: until + level * policy.decayMs };
}

/** Throws on a policy no request should be allowed to carry. */
export function checkPenaltyPolicy(policy: PenaltyPolicy): void {
  const { baseMs, factor, maxMs, decayMs } = policy;
  const ok =
    Number.isFinite(baseMs) && baseMs > 0 && Number.isFinite(factor) && factor >= 1 &&
    Number.isFinite(maxMs) && maxMs >= baseMs && Number.isFinite(decayMs) && decayMs > 0;
  if (!ok) throw new RangeError("penalty policy needs base > 0, factor >= 1, max >= base, decay > 0");
}
