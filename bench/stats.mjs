// Small statistics helpers for the harness.

/** Median of finite numbers; null for none. */
export function median(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Round to `digits` decimals, keeping null. */
export function round(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Smallest and largest finite value, for the spread of rounds. */
export function range(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? null : [Math.min(...finite), Math.max(...finite)];
}
