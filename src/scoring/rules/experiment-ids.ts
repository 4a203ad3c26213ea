/**
 * The experiment section's ids and timestamps: shared by the zod schema the rule build
 * validates with (experiment-schema.ts) and the types the Worker uses
 * (src/scoring/experiments/schema.ts), so neither imports the other.
 */

/** Experiment ids end up in store tally names (`[a-z0-9_.-]{1,64}`), so they use that alphabet. */
export const EXPERIMENT_ID = /^[a-z0-9][a-z0-9-]{0,47}$/;
/** Arm ids: no dots, so `<counter>.<suffix>` names stay unambiguous. */
export const ARM_ID = /^[a-z][a-z0-9_-]{0,31}$/;
/** The arm name under which holdout exposures are counted. */
export const HOLDOUT_ARM = "holdout";

/** `2026-05-01` (UTC midnight) or an ISO 8601 time with a zone, e.g. `2026-05-01T09:00:00Z`. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Epoch ms of a rule-file timestamp (validated by the schema first). */
export function timestampMs(text: string): number {
  return Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
}
