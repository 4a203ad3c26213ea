/**
 * Durations in rule files (`500ms`, `30s`, `10m`, `1h`, `7d`). Kept apart from the
 * schema so the Worker bundle does not pull in the schema library.
 */

/** The accepted shape. */
export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `"10m"` → 600000. The schema has already checked the shape. */
export function durationMs(text: string): number {
  const match = DURATION_PATTERN.exec(text);
  if (match === null) throw new Error(`bad duration ${text}`);
  const [, n, unit] = match;
  return Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
}
