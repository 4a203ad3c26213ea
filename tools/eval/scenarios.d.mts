// Types for tools/eval/scenarios.mjs (used by test/unit/eval-harness.test.ts).
export interface Step {
  kind: "reset" | "outcome";
  cls?: string;
  group?: string;
  email?: string;
  ip?: string;
  tags?: string[];
  [key: string]: unknown;
}
export interface Actor {
  group: string;
  steps: Step[];
  setup?: Step[];
}
export const SEED_SETS: { tune: number[]; holdout: number[] };
export function plan(
  seed: number,
  net: { draw(t: unknown, asn: number, country: string): string; has(asn: number, country: string): boolean },
  options?: { scale?: number },
): { seed: number; actors: Actor[] };
