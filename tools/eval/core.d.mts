// Types for tools/eval/core.mjs (used by test/unit/eval-harness.test.ts).
export type Outcome = "forwarded" | "challenged" | "rate_limited" | "silently_denied";
export function rng(seed: number): () => number;
export interface Tools {
  random: () => number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  weighted<K extends string>(weights: Record<K, number>): K;
  shuffle<T>(items: readonly T[]): T[];
  hex(n: number): string;
}
export function tools(random: () => number): Tools;
export const OUTCOMES: readonly Outcome[];
export function classify(seen: { status: number; forwarded: boolean }): Outcome | "error";
export function isFriction(outcome: string): boolean;
export function isBlocked(outcome: string): boolean;
export function worst(a: string, b: string): string;
export interface Result {
  cls: string;
  group: "legit" | "attack" | "owner" | "setup";
  outcome: Outcome | "error";
  tier?: string;
  channel?: string;
  channels?: string[];
  role?: string;
  reasons?: string[];
}
export interface Row {
  n: number;
  counts: Record<string, number>;
  forwarded: number;
  challenged: number;
  rate_limited: number;
  silently_denied: number;
  errors: number;
  tiers: Record<string, number>;
  channels: Record<string, number>;
  sms_usable: number;
}
export function summarise(results: readonly Result[]): Row;
export interface Summary {
  attack_forwarded: number;
  attack_forwarded_low_tier: number;
  legit_friction: number;
  legit_blocked: number;
  owner_after_flood: string | null;
  owner_after_flood_new_device: string | null;
  legit_requests: number;
  attack_requests: number;
  errors: number;
}
export function aggregate(results: readonly Result[]): { rows: (Row & { cls: string; group: string })[]; overall: { legit: Row; attack: Row; all: Row }; summary: Summary };
export function reasonCounts(results: readonly Result[]): [string, number][];
export function formatTable(agg: ReturnType<typeof aggregate>): string[];
/** The accounts the demo origin holds for a plan: every address but the guessed targets. */
export function accountsOf(plan: { actors: Array<{ setup?: Array<Record<string, unknown>>; steps: Array<Record<string, unknown>> }> }): string[];
export const FINISH_SHARE: number;
/** The steps whose reset gets finished (the last a legitimate user or owner asks for, FINISH_SHARE of actors). */
export function finishers<S extends { kind: string; group: string }>(plan: { actors: Array<{ steps: S[] }> }, seed: number): Set<S>;
/** Report the history set-ups' outcomes once the origin has received each 202 set-up's forward (polled until `waitMs`). */
export function teachSetups<D>(
  results: ReadonlyArray<{ id: string; status: number }>,
  events: ReadonlyArray<readonly string[]>,
  io: {
    received: () => Promise<Map<string, D>>;
    report: (decision: D, event: string) => Promise<boolean>;
    sleep: (ms: number) => Promise<void>;
    now: () => number;
    waitMs: number;
    pollMs?: number;
  },
): Promise<{ taught: Set<string>; missing: string[] }>;
