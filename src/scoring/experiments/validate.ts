/**
 * Checks on the experiments section that the schema cannot express. Problems carry a
 * path in the merged spec; the rule loader turns it into `file:line:col`, exactly as for
 * rules (`riskgate rules check`, `npm run build`).
 */
import type { PathItem } from "../rules/locate.ts";
import type { RulesetSpec } from "../rules/schema.ts";
import type { Problem } from "../rules/locate.ts";
import { type ExperimentSpec, HOLDOUT_ARM, timestampMs } from "./schema.ts";

/** Everything wrong with the experiments of a spec the schema accepted. */
export function experimentProblems(spec: RulesetSpec): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  spec.experiments.forEach((e, i) => {
    const at = (...rest: PathItem[]): PathItem[] => ["experiments", i, ...rest];
    const first = seen.get(e.id);
    if (first !== undefined) problems.push({ path: at("id"), message: `duplicate experiment id "${e.id}" (first used by experiment ${first + 1})` });
    else seen.set(e.id, i);
    problems.push(...tierProblems(spec, e, at));
    problems.push(...armProblems(spec, e, at));
    if (timestampMs(e.start) >= timestampMs(e.end)) problems.push({ path: at("end"), message: `end (${e.end}) must be after start (${e.start})` });
    for (const metric of ["fraud_rate", "abandonment_rate"] as const) {
      const b = e.guardrails[metric];
      if (b?.detect !== undefined && b.detect <= b.max) {
        problems.push({ path: at("guardrails", metric, "detect"), message: `detect (${b.detect}) must be above max (${b.max}): it is the rate the test is built to catch` });
      }
    }
  });
  problems.push(...overlapProblems(spec.experiments));
  return problems;
}

function tierProblems(spec: RulesetSpec, e: ExperimentSpec, at: (...rest: PathItem[]) => PathItem[]): Problem[] {
  const tier = spec.tiers.find((t) => t.name === e.tier);
  if (tier === undefined) {
    return [{ path: at("tier"), message: `unknown tier "${e.tier}" (tiers: ${spec.tiers.map((t) => t.name).join(", ")})` }];
  }
  if (tier.verdict === "deny") {
    return [{ path: at("tier"), message: `tier "${e.tier}" denies every request: no channel is ever used there, so nobody would be enrolled` }];
  }
  return [];
}

function armProblems(spec: RulesetSpec, e: ExperimentSpec, at: (...rest: PathItem[]) => PathItem[]): Problem[] {
  const problems: Problem[] = [];
  const ids = new Set<string>();
  e.arms.forEach((arm, j) => {
    if (arm.id === HOLDOUT_ARM) problems.push({ path: at("arms", j, "id"), message: `"${HOLDOUT_ARM}" is reserved for the holdout group` });
    else if (ids.has(arm.id)) problems.push({ path: at("arms", j, "id"), message: `duplicate arm id "${arm.id}"` });
    ids.add(arm.id);
    const used = new Set<string>();
    arm.channels.forEach((name, k) => {
      if (spec.channels[name] === undefined) {
        const declared = Object.keys(spec.channels).join(", ") || "none";
        problems.push({ path: at("arms", j, "channels", k), message: `unknown channel "${name}" (declared under channels: ${declared})` });
      } else if (used.has(name)) {
        problems.push({ path: at("arms", j, "channels", k), message: `channel "${name}" listed twice in arm "${arm.id}"` });
      }
      used.add(name);
    });
  });
  return problems;
}

/** Two experiments on one tier at the same time would both want to choose the channel. */
function overlapProblems(experiments: readonly ExperimentSpec[]): Problem[] {
  const problems: Problem[] = [];
  experiments.forEach((b, j) => {
    const a = experiments.slice(0, j).find(
      (x) => x.tier === b.tier && timestampMs(x.start) < timestampMs(b.end) && timestampMs(b.start) < timestampMs(x.end),
    );
    if (a !== undefined) {
      problems.push({
        path: ["experiments", j, "start"],
        message: `experiment "${b.id}" overlaps "${a.id}" on tier "${b.tier}" (${a.start} to ${a.end}); run one experiment per tier at a time`,
      });
    }
  });
  return problems;
}
