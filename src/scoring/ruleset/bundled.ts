/**
 * The rule sets built by `riskgate rules build` (npm run build) from `rules/`, bundled
 * into the Worker as JSON: the live set and, when `rules/candidate/` holds files, the
 * shadow candidate (build/candidate.json is `null` otherwise). CEL conditions are
 * parsed once, when this isolate first uses them.
 */
import builtCandidate from "../../../build/candidate.json" with { type: "json" };
import built from "../../../build/ruleset.json" with { type: "json" };
import { compileRuleset, type CompiledRuleset } from "./compile.ts";
import type { RulesetSpec } from "../rules/schema.ts";

/** The artefact format written by the build. */
export interface BuiltRuleset {
  readonly version: string;
  readonly spec: RulesetSpec;
}

let compiled: CompiledRuleset | undefined;
let candidate: CompiledRuleset | null | undefined;

/** The live rule set, compiled on first use and then shared by every request. */
export function bundledRuleset(): CompiledRuleset {
  if (compiled === undefined) {
    const artefact = built as unknown as BuiltRuleset;
    compiled = compileRuleset(artefact.spec, artefact.version);
  }
  return compiled;
}

/** The shadow candidate, or null when none is bundled. */
export function bundledCandidate(): CompiledRuleset | null {
  if (candidate === undefined) {
    const artefact = builtCandidate as unknown as BuiltRuleset | null;
    candidate = artefact === null ? null : compileRuleset(artefact.spec, artefact.version);
  }
  return candidate;
}
