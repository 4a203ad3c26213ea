/**
 * Compile a validated rule set: CEL conditions parsed and type-checked against the
 * context schema, tiers sorted, durations resolved. Runs in the CLI at build time
 * (where errors become `file:line:col` messages) and once per isolate in the Worker,
 * never per request.
 */
import { Environment } from "@marcbachmann/cel-js";
import { type CompiledExperiment, compileExperiment } from "../experiments/compile.ts";
import { type CompiledLadder, compileLadders } from "../policy/rate-limit.ts";
import { captchaSettings } from "../rules/captcha-settings.ts";
import type { CompiledChannel, CompiledCore } from "../rules/compiled.ts";
import { type CelScalar, type Condition, type ContextSchema, celValue, contextSchema, type Facts } from "../rules/context-schema.ts";
import { durationMs } from "../rules/duration.ts";
import { type DeclaredReasonCode, isBuiltinReasonCode, type ReasonCode } from "../../shared/decision.ts";
import { conditionReads } from "../rules/fact-classes.ts";
import type { ChannelSpec, RulesetSpec, TierSpec } from "../rules/schema.ts";

/** The rule set as the request path uses it: the compiled parts, the ladders and the experiments. */
export interface CompiledRuleset extends CompiledCore {
  /** Rate-limit ladders (docs/rate-limits.md). */
  readonly ladders: readonly CompiledLadder[];
  /** Channel experiments (docs/experiments.md). */
  readonly experiments: readonly CompiledExperiment[];
}

/** Why a condition does not compile, and where (character offset inside it). */
export interface ConditionProblem {
  readonly message: string;
  readonly offset: number;
}

/** A CEL environment and how to build its values from facts. */
export interface CelEnv {
  readonly env: Environment;
  /** Facts → CEL values: one typed object per section, built once per request. */
  readonly values: (facts: Facts) => Record<string, unknown>;
}

/**
 * Build the CEL environment for a context schema. Each section is a registered type
 * with its own constructor: values built with it are used as they are, where plain
 * objects would be converted again by every rule that reads them (measured: 2.4x
 * slower over 200 rules, see docs/architecture.md).
 */
export function celEnvironment(schema: ContextSchema): CelEnv {
  let env = new Environment({ unlistedVariablesAreDyn: false });
  const sections: { name: string; ctor: new (fields: Record<string, unknown>) => object; fields: [string, CelScalar][] }[] = [];
  for (const [name, fields] of Object.entries(schema)) {
    if (Object.keys(fields).length === 0) continue;
    const typeName = `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
    const ctor = {
      [typeName]: class {
        constructor(values: Record<string, unknown>) {
          Object.assign(this, values);
        }
      },
    }[typeName] as new (fields: Record<string, unknown>) => object;
    env = env.registerType(typeName, { ctor, fields }).registerVariable(name, typeName);
    sections.push({ name, ctor, fields: Object.entries(fields) });
  }
  const values = (facts: Facts) => {
    const out: Record<string, unknown> = {};
    for (const section of sections) {
      const source = facts[section.name] ?? {};
      const target: Record<string, unknown> = {};
      for (const [field, type] of section.fields) target[field] = celValue(type, source[field]);
      out[section.name] = new section.ctor(target);
    }
    return out;
  };
  return { env, values };
}

/** Type-check one condition: it must parse, type-check and be a bool. */
export function checkCondition(env: Environment, when: string): ConditionProblem | null {
  try {
    const result = env.check(when);
    if (!result.valid) return problemOf(result.error);
    return result.type === "bool" ? null : { message: `condition must be bool, not ${result.type}`, offset: 0 };
  } catch (err) {
    return problemOf(err);
  }
}

function problemOf(err: unknown): ConditionProblem {
  const e = err as { summary?: unknown; message?: unknown; range?: { start?: unknown } } | undefined;
  const text = typeof e?.summary === "string" ? e.summary : typeof e?.message === "string" ? e.message : "invalid condition";
  const start = e?.range?.start;
  return { message: text.split("\n")[0] ?? "invalid condition", offset: typeof start === "number" ? start : 0 };
}

const byScoreDesc = (tiers: readonly TierSpec[]) => [...tiers].sort((a, b) => b.min_score - a.min_score);

/** Compile a spec the loader accepted. Throws on the first bad condition. */
export function compileRuleset(spec: RulesetSpec, version: string): CompiledRuleset {
  const schema = contextSchema(spec);
  const { env, values } = celEnvironment(schema);
  const parse = (when: string) => env.parse(when) as Condition;
  const sections = new Set(Object.keys(schema));
  return {
    spec,
    version,
    schema,
    values,
    rules: spec.rules.map((rule) => {
      const test = parse(rule.when);
      const reads = conditionReads(spec, sections, (test as { ast?: unknown }).ast);
      return { id: rule.id, reason: reasonCode(rule.reason), weight: rule.weight, mode: rule.mode, test, reads };
    }),
    overrides: spec.overrides.map((o) => ({
      id: o.id,
      verdict: o.verdict,
      reason: o.reason === undefined ? (o.verdict === "allow" ? "OVERRIDE_ALLOWLIST" : "OVERRIDE_DENYLIST") : reasonCode(o.reason),
      tier: o.tier ?? null,
      test: parse(o.when),
    })),
    channels: new Map(Object.entries(spec.channels).map(([name, c]) => [name, compileChannel(name, c, parse)])),
    tiers: byScoreDesc(spec.tiers),
    privileged: spec.privileged === undefined ? null : { accounts: new Set(spec.privileged.accounts), tiers: byScoreDesc(spec.privileged.tiers) },
    windows: Object.entries(spec.windows).map(([name, w]) => ({ name, key: w.key, windowMs: durationMs(w.window) })),
    distinct: Object.entries(spec.distinct).map(([name, d]) => ({
      name,
      key: d.key,
      member: d.member,
      windowMs: durationMs(d.window),
    })),
    storeTimeoutMs: durationMs(spec.store.timeout),
    originTimeoutMs: durationMs(spec.origin.timeout),
    ladders: compileLadders(spec, parse),
    captcha: captchaSettings(spec.captcha),
    experiments: spec.experiments.map((e) => compileExperiment(e, parse)),
  };
}

/** A code the loader accepted: built-in, or declared under `reasons:` (semantic.ts checks which). */
function reasonCode(code: string): ReasonCode {
  return isBuiltinReasonCode(code) ? code : (code as DeclaredReasonCode);
}

function compileChannel(name: string, c: ChannelSpec, parse: (when: string) => Condition): CompiledChannel {
  return {
    name,
    countries: c.countries === undefined ? null : new Set(c.countries),
    budget: c.budget === undefined
      ? null
      : { windowMs: durationMs(c.budget.window), defaultLimit: c.budget.default, perCountry: new Map(Object.entries(c.budget.per_country)) },
    test: c.when === undefined ? null : parse(c.when),
  };
}
