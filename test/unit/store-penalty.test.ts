import { describe, expect, it } from "vitest";
import { checkPenaltyPolicy, decayedLevel, escalate, readPenalty } from "../../src/store/penalty.ts";
import type { PenaltyPolicy } from "../../src/store/port.ts";

const policy: PenaltyPolicy = { baseMs: 60_000, factor: 2, maxMs: 3_600_000, decayMs: 86_400_000 };
const T = 1_800_000_000_000;

describe("penalty escalation", () => {
  it.each([
    ["first violation", null, 1, T + 60_000],
    ["second, while still boxed", { level: 1, until: T + 10 }, 2, T + 120_000],
    ["seventh: 64 minutes, capped at one hour", { level: 6, until: T - 1 }, 7, T + 3_600_000],
    ["a long-boxed key is never shortened", { level: 1, until: T + 10_000_000 }, 2, T + 10_000_000],
    ["after two decay periods two levels are forgotten", { level: 3, until: T - 2 * 86_400_000 }, 2, T + 120_000],
    ["after many decay periods it starts over", { level: 5, until: T - 30 * 86_400_000 }, 1, T + 60_000],
  ])("%s", (_label, stored, level, until) => {
    const { state, expiresAt } = escalate(stored, T, policy);
    expect(state).toEqual({ level, until });
    // Stored only as long as there is a level left to decay.
    expect(expiresAt).toBe(until + level * policy.decayMs);
  });

  it("grows exactly by the factor until the cap", () => {
    let stored = null;
    const boxes: number[] = [];
    for (let i = 0; i < 8; i++) {
      const { state } = escalate(stored, T, { ...policy, factor: 3, maxMs: 10_000_000 });
      boxes.push(state.until - T);
      stored = { level: state.level, until: T }; // each box just ended
    }
    expect(boxes).toEqual([60_000, 180_000, 540_000, 1_620_000, 4_860_000, 10_000_000, 10_000_000, 10_000_000]);
  });

  it.each([
    [{ level: 3, until: T + 1 }, T, 3],
    [{ level: 3, until: T }, T + 86_400_000 - 1, 3],
    [{ level: 3, until: T }, T + 86_400_000, 2],
    [{ level: 0, until: T }, T + 1, 0],
  ])("decays %o at %i to level %i", (stored, now, level) => {
    expect(decayedLevel(stored, now, policy)).toBe(level);
  });

  it.each([
    [null, { level: 0, until: 0 }],
    [{ level: 2, until: T + 5 }, { level: 2, until: T + 5 }],
    [{ level: 2, until: T }, { level: 2, until: 0 }],
  ])("reads %o as %o", (stored, expected) => {
    expect(readPenalty(stored, T, policy)).toEqual(expected);
  });

  it.each([
    ["a zero base", { ...policy, baseMs: 0 }],
    ["a factor below 1", { ...policy, factor: 0.5 }],
    ["a cap below the base", { ...policy, maxMs: 1 }],
    ["no decay", { ...policy, decayMs: 0 }],
    ["NaN", { ...policy, factor: Number.NaN }],
  ])("refuses a policy with %s", (_label, bad) => {
    expect(() => checkPenaltyPolicy(bad)).toThrow(RangeError);
  });

  it("accepts a sane policy", () => {
    expect(() => checkPenaltyPolicy(policy)).not.toThrow();
  });
});
