/**
 * The zod schema of the `experiments` section (docs/experiments.md). Build-time only: the
 * rule build (./schema.ts) validates with it; the Worker imports ../experiments/schema.ts
 * (ids, constants, types), never this module, so zod is not bundled.
 */
import { z } from "zod";
import { ARM_ID, EXPERIMENT_ID, TIMESTAMP, timestampMs } from "./experiment-ids.ts";

const timestamp = z
  .string()
  .regex(TIMESTAMP, "expected a UTC date (2026-05-01) or an ISO time with a zone (2026-05-01T09:00:00Z)")
  .refine((t) => Number.isFinite(timestampMs(t)), "not a valid date");

const channelName = z.string().regex(/^[a-z][a-z0-9_]*$/, "expected snake_case, e.g. sms_otp");

const arm = z.strictObject({
  id: z.string().regex(ARM_ID, "expected a short snake_case or kebab-case id, e.g. sms"),
  description: z.string().optional(),
  /** Channels in order of preference, as in a tier: the first is the arm's treatment. */
  channels: z.array(channelName).min(1),
  /** Relative share of the non-holdout traffic. */
  weight: z.number().positive().default(1),
});

/** A bound on a per-exposure rate, tested sequentially (SPRT) as the data come in. */
const bound = z.strictObject({
  /** The worst acceptable rate (H0: rate = max). */
  max: z.number().gt(0).lt(1),
  /** A rate the test should catch quickly (H1; default: twice `max`, capped below 1). */
  detect: z.number().gt(0).lt(1).optional(),
});

const guardrails = z.strictObject({
  /** fraud_reported outcomes per exposure. */
  fraud_rate: bound.optional(),
  /** abandoned outcomes per exposure. */
  abandonment_rate: bound.optional(),
  /** Chance of stopping an arm whose true rate is exactly `max` (lower for better arms). */
  alpha: z.number().gt(0).max(0.2).default(0.01),
  /** No arm is stopped before it has this many exposures, whatever the test says. */
  min_exposures: z.number().int().min(1).default(100),
});

/** One experiment. */
export const experimentSchema = z.strictObject({
  id: z.string().regex(EXPERIMENT_ID, "expected a kebab-case id up to 48 characters, e.g. medium-email-vs-sms"),
  description: z.string().optional(),
  /** The tier whose allowed requests are enrolled (privileged accounts never are). */
  tier: z.string().min(1),
  /** Optional segment: a CEL condition over the rule context (docs/rule-context.md). */
  when: z.string().min(1).optional(),
  start: timestamp,
  end: timestamp,
  /** Share of eligible accounts kept on the tier's own channels and counted as `holdout`. */
  holdout: z.number().min(0).max(0.5).default(0),
  arms: z.array(arm).min(2),
  guardrails: guardrails.default({ alpha: 0.01, min_exposures: 100 }),
});

/** The experiments section: a list, like rules. */
export const experimentsSchema = z.array(experimentSchema).default([]);

