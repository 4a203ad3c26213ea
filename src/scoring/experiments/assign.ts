/**
 * Assignment: which experiment and arm a decision belongs to. Deterministic per account
 * and experiment: HMAC(secret, experiment id ‖ account key) gives two independent
 * uniform numbers; the first picks holdout or an arm by weight, the second re-draws
 * among the remaining arms when a guardrail stopped the drawn one. An account keeps its
 * arm for the whole experiment (unless that arm is stopped), across requests and
 * isolates, with nothing stored.
 *
 * Enrolment is decided before the draw and never depends on it, so the arms see the same
 * population: a request is enrolled only when every live arm's first channel is usable
 * for it (country list, budget, condition), so that each arm delivers its treatment.
 */
import type { DependencyError, Verdict } from "../../shared/decision.ts";
import type { Hasher } from "../../context/hmac.ts";
import { type ChannelInput, selectChannels } from "../policy/channels.ts";
import { activeExperiments, type CompiledArm, type CompiledExperiment, type ExperimentRuleset } from "./compile.ts";
import { HOLDOUT_ARM } from "./schema.ts";

/** Two independent uniform numbers in [0, 1) for one account and experiment. */
export interface Draw {
  readonly u: number;
  readonly v: number;
}

/** What the request path knows about experiments when it decides. */
export interface ExperimentInput {
  readonly now: number;
  /** Draws for the experiments active at `now` (keyed by experiment id). */
  readonly draws: ReadonlyMap<string, Draw>;
  /** Stopped arms of an experiment; null when this isolate does not know (nobody is enrolled then). */
  readonly stopped: (id: string) => ReadonlySet<string> | null;
}

/** The arm a decision was assigned to; the origin uses `channels`. */
export interface Assignment {
  readonly experiment: string;
  /** An arm id, or `holdout`. */
  readonly arm: string;
  readonly channels: readonly string[];
}

/** Why a request was not enrolled (for tests and explanations). */
export type Skip =
  | "NO_EXPERIMENT"
  | "NOT_ALLOWED"
  | "OVERRIDE"
  | "PRIVILEGED"
  | "DEPENDENCY_FAILED"
  | "OUTSIDE_SEGMENT"
  | "STATE_UNKNOWN"
  | "ALL_ARMS_STOPPED"
  | "ARM_UNAVAILABLE";

/** Enrolled, or why not. */
export type Enrolment = { readonly assignment: Assignment } | { readonly assignment: null; readonly skip: Skip };

/** What policy concluded, as enrolment needs it. */
export interface EnrolInput {
  /** The decision's tier name. */
  readonly tier: string;
  readonly verdict: Verdict;
  readonly override: boolean;
  readonly privileged: boolean;
  readonly errors: readonly DependencyError[];
  readonly channel: ChannelInput;
  /** The tier's usable channels: what the holdout gets. */
  readonly channels: readonly string[];
  /** CEL values, for the segment condition. */
  readonly values: Record<string, unknown>;
}

const TWO_48 = 2 ** 48;

/** The two uniforms in a 128-bit base64url hash (bytes 0–5 and 6–11). */
export function drawFromHash(hash: string): Draw {
  const binary = atob(hash.replace(/-/g, "+").replace(/_/g, "/"));
  const read = (from: number) => {
    let x = 0;
    for (let i = from; i < from + 6; i++) x = x * 256 + binary.charCodeAt(i);
    return x / TWO_48;
  };
  return { u: read(0), v: read(6) };
}

/** The draws of `accountKey` for every experiment active at `now` (one HMAC each). */
export async function drawsFor(ruleset: ExperimentRuleset, accountKey: string, now: number, hasher: Hasher): Promise<Map<string, Draw>> {
  const active = activeExperiments(ruleset.experiments, now);
  const hashes = await Promise.all(active.map((e) => hasher.hash("experiment", `${e.id}\u0000${accountKey}`)));
  return new Map(active.map((e, i) => [e.id, drawFromHash(hashes[i] ?? "")]));
}

function byWeight(arms: readonly CompiledArm[], x: number): CompiledArm {
  const total = arms.reduce((s, a) => s + a.weight, 0);
  let edge = 0;
  for (const arm of arms) {
    edge += arm.weight / total;
    if (x < edge) return arm;
  }
  // x < 1 always; rounding in the running sum can leave the last edge a hair below 1.
  return arms[arms.length - 1] as CompiledArm;
}

/** The arm for a draw: `holdout`, an arm, or null when every arm is stopped. */
export function pickArm(experiment: CompiledExperiment, draw: Draw, stopped: ReadonlySet<string>): CompiledArm | typeof HOLDOUT_ARM | null {
  if (draw.u < experiment.holdout) return HOLDOUT_ARM;
  const drawn = byWeight(experiment.arms, (draw.u - experiment.holdout) / (1 - experiment.holdout));
  if (!stopped.has(drawn.id)) return drawn;
  const live = experiment.arms.filter((a) => !stopped.has(a.id));
  return live.length === 0 ? null : byWeight(live, draw.v);
}

function eligibility(experiment: CompiledExperiment | undefined, input: EnrolInput): Skip | null {
  if (experiment === undefined) return "NO_EXPERIMENT";
  if (input.privileged) return "PRIVILEGED";
  if (input.override) return "OVERRIDE";
  if (input.errors.length > 0) return "DEPENDENCY_FAILED";
  if (input.verdict !== "allow") return "NOT_ALLOWED";
  if (experiment.segment !== null) {
    let holds: unknown = false;
    try {
      holds = experiment.segment(input.values);
    } catch {
      holds = false;
    }
    if (holds !== true) return "OUTSIDE_SEGMENT";
  }
  return null;
}

/** Enrol a decision in the experiment running on its tier, if it qualifies. */
export function enrol(ruleset: ExperimentRuleset, input: EnrolInput, experiments: ExperimentInput): Enrolment {
  const experiment = activeExperiments(ruleset.experiments, experiments.now).find((e) => e.tier === input.tier);
  const tier = ruleset.tiers.find((t) => t.name === input.tier);
  const skip = eligibility(tier === undefined ? undefined : experiment, input);
  const draw = experiment === undefined ? undefined : experiments.draws.get(experiment.id);
  if (skip !== null || experiment === undefined || tier === undefined) return { assignment: null, skip: skip ?? "NO_EXPERIMENT" };
  const stopped = experiments.stopped(experiment.id);
  if (stopped === null || draw === undefined) return { assignment: null, skip: "STATE_UNKNOWN" };
  const live = experiment.arms.filter((a) => !stopped.has(a.id));
  if (live.length === 0) return { assignment: null, skip: "ALL_ARMS_STOPPED" };
  const usable = new Map(live.map((a) => [a.id, selectChannels(ruleset, { ...tier, channels: [...a.channels] }, input.channel).channels]));
  if (live.some((a) => usable.get(a.id)?.[0] !== a.channels[0])) return { assignment: null, skip: "ARM_UNAVAILABLE" };
  const arm = pickArm(experiment, draw, stopped);
  if (arm === null) return { assignment: null, skip: "ALL_ARMS_STOPPED" };
  if (arm === HOLDOUT_ARM) return { assignment: { experiment: experiment.id, arm: HOLDOUT_ARM, channels: input.channels } };
  return { assignment: { experiment: experiment.id, arm: arm.id, channels: usable.get(arm.id) ?? arm.channels } };
}
