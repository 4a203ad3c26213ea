/**
 * Velocity signal: hits per entity over the rule file's named windows, and distinct
 * members per entity (e.g. accounts per IP). `planVelocity` says what to count;
 * the store answers in one batch; `velocityFacts` names the results for rules.
 */
import type { EntityKeys } from "../../context/index.ts";
import type { CompiledDistinct, CompiledWindow } from "../rules/compiled.ts";
import type { KeyKind } from "../rules/schema.ts";
import type { DistinctAdd, WindowHit } from "../../store/port.ts";

/** The store operations for one request, with the window names they answer. */
export interface VelocityPlan {
  readonly hits: readonly WindowHit[];
  readonly hitNames: readonly string[];
  readonly distinct: readonly DistinctAdd[];
  readonly distinctNames: readonly string[];
}

function entityKey(keys: EntityKeys, kind: KeyKind): string | null {
  return kind === "global" ? "global" : keys[kind];
}

/** Which windows and distinct sets this request touches (entities it lacks are skipped). */
export function planVelocity(
  keys: EntityKeys,
  windows: readonly CompiledWindow[],
  distinct: readonly CompiledDistinct[],
): VelocityPlan {
  const hits: WindowHit[] = [];
  const hitNames: string[] = [];
  for (const w of windows) {
    const key = entityKey(keys, w.key);
    if (key === null) continue;
    hits.push({ key: `v:${w.key}:${key}`, windowMs: w.windowMs });
    hitNames.push(w.name);
  }
  const adds: DistinctAdd[] = [];
  const distinctNames: string[] = [];
  for (const d of distinct) {
    const key = entityKey(keys, d.key);
    const member = entityKey(keys, d.member);
    if (key === null || member === null) continue;
    adds.push({ key: `d:${d.key}:${d.member}:${key}`, member, windowMs: d.windowMs });
    distinctNames.push(d.name);
  }
  return { hits, hitNames, distinct: adds, distinctNames };
}

/** Name the store's answers; windows the request could not touch read as 0. */
export function velocityFacts(
  plan: VelocityPlan,
  counts: readonly number[],
  distinctCounts: readonly number[],
): { velocity: Record<string, number>; distinct: Record<string, number> } {
  const velocity: Record<string, number> = {};
  plan.hitNames.forEach((name, i) => {
    velocity[name] = counts[i] ?? 0;
  });
  const distinct: Record<string, number> = {};
  plan.distinctNames.forEach((name, i) => {
    distinct[name] = distinctCounts[i] ?? 0;
  });
  return { velocity, distinct };
}
