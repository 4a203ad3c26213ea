/**
 * The rule set built by `riskgate rules build` (npm run build) from `rules/`, bundled
 * into the Worker as JSON. CEL conditions are parsed once, when this isolate loads.
 */
import built from "../../build/ruleset.json" with { type: "json" };
import { compileRuleset, type CompiledRuleset } from "./compile.ts";
import type { RulesetSpec } from "./schema.ts";

/** The artefact format written by the build. */
export interface BuiltRuleset {
  readonly version: string;
  readonly spec: RulesetSpec;
}

let compiled: CompiledRuleset | undefined;

/** The live rule set, compiled on first use and then shared by every request. */
export function bundledRuleset(): CompiledRuleset {
  if (compiled === undefined) {
    const artefact = built as unknown as BuiltRuleset;
    compiled = compileRuleset(artefact.spec, artefact.version);
  }
  return compiled;
}
