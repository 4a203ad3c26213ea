/**
 * The `experiments` section of the rule files (docs/experiments.md): which tier (and
 * optional segment) an experiment runs on, its arms (channel orders) with weights, a
 * holdout, start and end, and guardrails that stop a harmful arm. Part of the rule-set
 * schema (src/scoring/rules/schema.ts); checks the schema cannot express are in validate.ts.
 *
 * This module holds the ids, constants and types the Worker uses; the zod schema itself is
 * in src/scoring/rules/experiment-schema.ts (with the rule file's schema), which only the rule
 * build (src/scoring/rules/schema.ts) imports, so zod stays out of the Worker bundle
 * (rules are validated at build time, not per request).
 */
import type { z } from "zod";
import type { experimentSchema } from "../rules/experiment-schema.ts";

export { ARM_ID, EXPERIMENT_ID, HOLDOUT_ARM, TIMESTAMP, timestampMs } from "../rules/experiment-ids.ts";

/** One experiment as written. */
export type ExperimentSpec = z.infer<typeof experimentSchema>;
/** One arm as written. */
export type ArmSpec = ExperimentSpec["arms"][number];
