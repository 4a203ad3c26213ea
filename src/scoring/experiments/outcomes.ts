/**
 * Experiments as a consumer of verified outcomes (POST /v1/outcomes): the decision token
 * the origin echoes carries the experiment arm (`experiment` claim), so the outcome is
 * counted against that arm with nothing stored at decision time. Counting is idempotent:
 * a `sent` counts once per report id (each resend costs), the other events once per
 * decision. The cost of a send is the origin's actual cost when it reports one, else the
 * cost table's price for the channel and destination country.
 */
import type { Hasher } from "../../context/hmac.ts";
import type { ExperimentArm } from "../../shared/decision.ts";
import type { RulesetSpec } from "../rules/schema.ts";
import type { Store } from "../../store/port.ts";
import { sendCostMicros, toMicros } from "./costs.ts";
import { ARM_ID, EXPERIMENT_ID, HOLDOUT_ARM } from "./schema.ts";
import { type OutcomeEventName, outcomeCounters, outcomeEventId } from "./tallies.ts";

/** Largest per-send cost accepted from a report, in currency units (a typo guard). */
export const MAX_REPORTED_COST = 1000;

/** What the origin may add to a report about a send (all optional). */
export interface ReportedSend {
  /** The channel actually used (e.g. a fallback). */
  readonly channel: string | null;
  /** What this send actually cost, in the rule set's currency. */
  readonly cost: number | null;
  /** Destination country of the send (e.g. the phone number's), ISO alpha-2. */
  readonly country: string | null;
}

/** A verified outcome as experiments need it. */
export interface ExperimentOutcome {
  readonly event: OutcomeEventName;
  /** The report's own id (its `jti`). */
  readonly reportId: string;
  readonly decisionId: string;
  /** The arm from the echoed decision token; null when the decision was not enrolled. */
  readonly experiment: ExperimentArm | null;
  /** The decision's channel claim. */
  readonly decisionChannel: string | null;
  /** Where the request came from (the decision's `seen.cc`), the fallback destination country. */
  readonly requestCountry: string | null;
  readonly reported: ReportedSend;
  /** When the report arrived (ms). */
  readonly at: number;
}

/** What recording needs. */
export interface OutcomeDeps {
  readonly store: Store;
  readonly hasher: Hasher;
  readonly spec: Pick<RulesetSpec, "channels" | "experiments">;
}

/** The `experiment` claim of a verified decision token; null when absent or malformed. */
export function parseExperimentClaim(value: unknown): ExperimentArm | null {
  if (typeof value !== "object" || value === null) return null;
  const { id, arm } = value as { id?: unknown; arm?: unknown };
  if (typeof id !== "string" || !EXPERIMENT_ID.test(id) || typeof arm !== "string") return null;
  return arm === HOLDOUT_ARM || ARM_ID.test(arm) ? { id, arm } : null;
}

/**
 * The optional send details of a report payload. Throws a message (for
 * ERR_OUTCOME_INVALID) when a field is present but malformed.
 */
export function parseReportedSend(payload: Readonly<Record<string, unknown>>): ReportedSend {
  const { channel, cost, country } = payload;
  if (channel !== undefined && (typeof channel !== "string" || !/^[a-z][a-z0-9_]{0,63}$/.test(channel))) throw new Error("channel must be a channel name from the rule files");
  if (cost !== undefined && (typeof cost !== "number" || !Number.isFinite(cost) || cost < 0 || cost > MAX_REPORTED_COST)) {
    throw new Error(`cost must be a number from 0 to ${MAX_REPORTED_COST} (currency units per send)`);
  }
  if (country !== undefined && (typeof country !== "string" || !/^[A-Z]{2}$/.test(country))) throw new Error("country must be an ISO 3166-1 alpha-2 code");
  return { channel: channel ?? null, cost: cost ?? null, country: country ?? null };
}

/** The cost of a `sent` outcome in micro-units. */
export function outcomeCostMicros(spec: Pick<RulesetSpec, "channels">, o: ExperimentOutcome): number {
  if (o.reported.cost !== null) return toMicros(o.reported.cost);
  const channel = o.reported.channel ?? o.decisionChannel;
  if (channel === null) return 0;
  return sendCostMicros(spec, channel, o.reported.country ?? o.requestCountry) ?? 0;
}

/**
 * Count an outcome against its experiment arm. Resolves to null when the decision was
 * not in a (known) experiment, otherwise to false for a repeat of a counted event.
 * Rejects with the store's error (the endpoint answers 503; the origin retries safely).
 */
export async function recordExperimentOutcome(deps: OutcomeDeps, o: ExperimentOutcome): Promise<boolean | null> {
  const claim = o.experiment;
  if (claim === null) return null;
  const experiment = deps.spec.experiments.find((e) => e.id === claim.id);
  if (experiment === undefined || (claim.arm !== HOLDOUT_ARM && !experiment.arms.some((a) => a.id === claim.arm))) return null;
  const cost = o.event === "sent" ? outcomeCostMicros(deps.spec, o) : 0;
  const eventKey = await deps.hasher.hash("experiment-event", outcomeEventId(o.event, o.decisionId, o.reportId));
  return deps.store.tally({
    experiment: claim.id,
    arm: claim.arm,
    now: o.at,
    add: outcomeCounters(o.event, o.decisionId, cost),
    eventKey,
  });
}
