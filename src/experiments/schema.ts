/**
 * The `experiments` section of the rule files (docs/experiments.md): which tier (and
 * optional segment) an experiment runs on, its arms (channel orders) with weights, a
 * holdout, start and end, and guardrails that stop a harmful arm. Part of the rule-set
 * schema (src/rules/schema.ts); checks the schema cannot express are in validate.ts.
 *
 * This module holds the ids, constants and types the Worker uses; the zod schema itself is
 * in experiment-schema.ts, which only the rule build (src/rules/schema.ts) imports, so zod
 * stays out of the Worker bundle (rules are validated at build time, not per request).
 */
import type { z } from "zod";
import type { experimentSchema } from "./experiment-schema.ts";

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

/** One experiment as written. */
export type ExperimentSpec = z.infer<typeof experimentSchema>;
/** One arm as written. */
export type ArmSpec = ExperimentSpec["arms"][number];
