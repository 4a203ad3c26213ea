/**
 * Compile a validated rule set: CEL conditions parsed and type-checked against the
 * context schema, tiers sorted, durations resolved. Runs in the CLI at build time
 * (where errors become `file:line:col` messages) and once per isolate in the Worker,
 * never per request.
 */
import { Environment } from "@marcbachmann/cel-js";
import type { ReasonCode } from "../decision.ts";
import { type ContextSchema, contextSchema } from "./context-schema.ts";
import { durationMs } from "./duration.ts";
import type { KeyKind, RulesetSpec, TierSpec } from "./schema.ts";

/** A rule ready to run. */
export interface CompiledRule {
  readonly id: string;
  readonly reason: ReasonCode;
  readonly weight: number;
  readonly mode: "live" | "shadow";
  readonly test: (values: Record<string, unknown>) => unknown;
}

/** A named window with its duration in ms. */
export interface CompiledWindow {
  readonly name: string;
  readonly key: KeyKind;
  readonly windowMs: number;
}

/** A named distinct count. */
export interface CompiledDistinct extends CompiledWindow {
  readonly member: KeyKind;
}

/** The rule set as the request path uses it. */
export interface CompiledRuleset {
  readonly spec: RulesetSpec;
  /** Content hash of the spec; recorded in every decision. */
  readonly version: string;
  readonly schema: ContextSchema;
  readonly rules: readonly CompiledRule[];
  /** Sorted by `min_score` descending, so the first match is the tier. */
  readonly tiers: readonly TierSpec[];
  readonly windows: readonly CompiledWindow[];
  readonly distinct: readonly CompiledDistinct[];
  readonly storeTimeoutMs: number;
  readonly originTimeoutMs: number;
}

/** A rule whose condition does not compile. `path` locates it in the spec. */
export interface ConditionError {
  readonly ruleIndex: number;
  readonly message: string;
  /** Character offset inside the condition, when the CEL library reports one. */
  readonly offset: number | null;
}

/** Build the CEL environment for a context schema. */
export function celEnvironment(schema: ContextSchema): Environment {
  let env = new Environment({ unlistedVariablesAreDyn: false });
  for (const [name, fields] of Object.entries(schema)) {
    if (Object.keys(fields).length === 0) continue;
    env = env.registerVariable({ name, schema: fields });
  }
  return env;
}

/** Type-check every condition; an empty list means the rule set compiles. */
export function checkConditions(spec: RulesetSpec): ConditionError[] {
  const env = celEnvironment(contextSchema(spec));
  const errors: ConditionError[] = [];
  spec.rules.forEach((rule, ruleIndex) => {
    try {
      const result = env.check(rule.when);
      if (!result.valid) {
        errors.push({ ruleIndex, message: firstLine(result.error?.message), offset: offsetOf(result.error) });
      } else if (result.type !== "bool") {
        errors.push({ ruleIndex, message: `condition must be bool, not ${result.type}`, offset: 0 });
      }
    } catch (err) {
      errors.push({ ruleIndex, message: firstLine((err as Error).message), offset: offsetOf(err) });
    }
  });
  return errors;
}

function firstLine(message: string | undefined): string {
  return (message ?? "invalid condition").split("\n")[0] ?? "invalid condition";
}

function offsetOf(err: unknown): number | null {
  const pos = (err as { node?: { pos?: unknown } } | undefined)?.node?.pos;
  return typeof pos === "number" ? pos : null;
}

/** Compile a spec that `checkConditions` accepted. Throws on the first bad condition. */
export function compileRuleset(spec: RulesetSpec, version: string): CompiledRuleset {
  const schema = contextSchema(spec);
  const env = celEnvironment(schema);
  const rules = spec.rules.map((rule) => ({
    id: rule.id,
    reason: rule.reason,
    weight: rule.weight,
    mode: rule.mode,
    test: env.parse(rule.when) as (values: Record<string, unknown>) => unknown,
  }));
  return {
    spec,
    version,
    schema,
    rules,
    tiers: [...spec.tiers].sort((a, b) => b.min_score - a.min_score),
    windows: Object.entries(spec.windows).map(([name, w]) => ({
      name,
      key: w.key,
      windowMs: durationMs(w.window),
    })),
    distinct: Object.entries(spec.distinct).map(([name, d]) => ({
      name,
      key: d.key,
      member: d.member,
      windowMs: durationMs(d.window),
    })),
    storeTimeoutMs: durationMs(spec.store.timeout),
    originTimeoutMs: durationMs(spec.origin.timeout),
  };
}
