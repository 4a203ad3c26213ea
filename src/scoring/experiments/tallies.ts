/**
 * What experiments count in the store (`Store.tally`, one hash or table per experiment)
 * and how the rows read back become per-arm totals. Counters (docs/experiments.md):
 *
 *   exposures            enrolled decisions (after the response, never before it)
 *   exposures.hHH        the same by hour of the UTC day, for the exposures-over-time chart
 *   sends, cost_micros   `sent` outcomes and their cost (actual, or from the cost table)
 *   verifications, completions, abandonments, fraud_reports   at most once per decision
 *   cost_micros.gNN, completions.gNN   the same split into 16 random groups of decisions,
 *                        for the variance of cost per completed reset (stats.ts)
 *   stopped.<metric>     set once when a guardrail stops the arm
 */
import type { TallyRow, TallyUpdate } from "../../store/port.ts";
import type { GuardrailMetric } from "./compile.ts";

/** How many random groups decisions are split into for ratio variances. */
export const GROUPS = 16;

/** Counter names. */
export const COUNTERS = {
  exposures: "exposures",
  sends: "sends",
  cost: "cost_micros",
  verifications: "verifications",
  completions: "completions",
  abandonments: "abandonments",
  fraud: "fraud_reports",
} as const;

/** The outcome events the origin reports (POST /v1/outcomes). */
export type OutcomeEventName = "sent" | "verified" | "completed" | "abandoned" | "fraud_reported";

const PER_DECISION: Record<Exclude<OutcomeEventName, "sent">, string> = {
  verified: COUNTERS.verifications,
  completed: COUNTERS.completions,
  abandoned: COUNTERS.abandonments,
  fraud_reported: COUNTERS.fraud,
};

const HOUR_MS = 3_600_000;
const pad = (n: number) => String(n).padStart(2, "0");

/** The random group of a decision: FNV-1a of its (random) id, so every event of it lands together. */
export function groupOf(decisionId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < decisionId.length; i++) {
    h ^= decisionId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % GROUPS;
}

/** One exposure of `arm` at `now` (no event key: each decision is counted once, by its request). */
export function exposureUpdate(experiment: string, arm: string, now: number): TallyUpdate {
  const hour = Math.floor(now / HOUR_MS) % 24;
  return { experiment, arm, now, add: { [COUNTERS.exposures]: 1, [`${COUNTERS.exposures}.h${pad(hour)}`]: 1 }, eventKey: null };
}

/**
 * The counters an outcome adds. `sent` counts every send (resends cost money too);
 * the others count once per decision, so rates stay proportions of exposures.
 */
export function outcomeCounters(event: OutcomeEventName, decisionId: string, costMicros: number): Record<string, number> {
  const g = `.g${pad(groupOf(decisionId))}`;
  if (event === "sent") return { [COUNTERS.sends]: 1, [COUNTERS.cost]: costMicros, [`${COUNTERS.cost}${g}`]: costMicros };
  const counter = PER_DECISION[event];
  return counter === COUNTERS.completions ? { [counter]: 1, [`${counter}${g}`]: 1 } : { [counter]: 1 };
}

/** The event id that makes an outcome count once: the report's id for sends, the decision's otherwise. */
export function outcomeEventId(event: OutcomeEventName, decisionId: string, reportId: string): string {
  return event === "sent" ? `report\u0000${reportId}` : `decision\u0000${decisionId}\u0000${event}`;
}

/** The sticky marker a guardrail writes when it stops an arm (idempotent by its fixed key). */
export function stopUpdate(experiment: string, arm: string, metric: GuardrailMetric, now: number): TallyUpdate {
  return { experiment, arm, now, add: { [`stopped.${metric}`]: 1 }, eventKey: `stop.${arm}` };
}

/** One arm's counts, read back from the store. */
export interface ArmCounts {
  readonly arm: string;
  exposures: number;
  sends: number;
  costMicros: number;
  verifications: number;
  completions: number;
  abandonments: number;
  fraudReports: number;
  /** Per random group: cost (micro-units) and completions. */
  readonly costGroups: number[];
  readonly completionGroups: number[];
  /** Exposures by hour since the epoch. */
  readonly exposuresByHour: Map<number, number>;
  /** Guardrails that stopped the arm, with the UTC day (epoch days) of the stop. */
  readonly stopped: Map<GuardrailMetric, number | null>;
}

/** Zero counts for `arm`. */
export function emptyCounts(arm: string): ArmCounts {
  return {
    arm, exposures: 0, sends: 0, costMicros: 0, verifications: 0, completions: 0, abandonments: 0, fraudReports: 0,
    costGroups: new Array<number>(GROUPS).fill(0), completionGroups: new Array<number>(GROUPS).fill(0),
    exposuresByHour: new Map(), stopped: new Map(),
  };
}

const TOTALS: Record<string, keyof Omit<ArmCounts, "arm" | "costGroups" | "completionGroups" | "exposuresByHour" | "stopped">> = {
  [COUNTERS.exposures]: "exposures",
  [COUNTERS.sends]: "sends",
  [COUNTERS.cost]: "costMicros",
  [COUNTERS.verifications]: "verifications",
  [COUNTERS.completions]: "completions",
  [COUNTERS.abandonments]: "abandonments",
  [COUNTERS.fraud]: "fraudReports",
};

function addRow(counts: ArmCounts, row: TallyRow): void {
  const [name, suffix] = row.counter.split(".", 2) as [string, string | undefined];
  if (name === "stopped" && suffix !== undefined) {
    // The marker's total says "stopped"; its day row says when (the earliest, if ever two).
    const metric = suffix as GuardrailMetric;
    const known = counts.stopped.get(metric);
    if (row.day === null) {
      if (known === undefined) counts.stopped.set(metric, null);
    } else if (known === undefined || known === null || row.day < known) {
      counts.stopped.set(metric, row.day);
    }
    return;
  }
  if (suffix === undefined) {
    const field = TOTALS[name];
    if (field !== undefined && row.day === null) counts[field] = row.value;
    return;
  }
  const index = Number(suffix.slice(1));
  if (suffix.startsWith("g") && row.day === null && index >= 0 && index < GROUPS) {
    if (name === COUNTERS.cost) counts.costGroups[index] = row.value;
    if (name === COUNTERS.completions) counts.completionGroups[index] = row.value;
  } else if (suffix.startsWith("h") && name === COUNTERS.exposures && row.day !== null) {
    const hour = row.day * 24 + index;
    counts.exposuresByHour.set(hour, (counts.exposuresByHour.get(hour) ?? 0) + row.value);
  }
}

/** Rows of one experiment → counts for each of `arms` (arms without rows get zeros). */
export function countsByArm(rows: readonly TallyRow[], arms: readonly string[]): Map<string, ArmCounts> {
  const out = new Map(arms.map((a) => [a, emptyCounts(a)]));
  for (const row of rows) {
    const counts = out.get(row.arm);
    if (counts !== undefined) addRow(counts, row);
  }
  return out;
}
