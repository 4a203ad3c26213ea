/**
 * The typed context rule conditions see (documented field by field in
 * docs/rule-context.md). The same declaration drives CEL type checking at build time
 * and the int/double conversion at run time, so the two cannot drift apart.
 */
import type { RulesetSpec } from "./schema.ts";

/** A parsed CEL condition: CEL values in, `true` when it holds. */
export type Condition = (values: Record<string, unknown>) => unknown;

/** CEL scalar types used by the context. */
export type CelScalar = "int" | "double" | "string" | "bool" | "list<string>";

/** Section name → field name → CEL type. */
export type ContextSchema = Record<string, Record<string, CelScalar>>;

/** The fixed sections; `velocity` and `distinct` fields come from the rule file's names. */
const FIXED: ContextSchema = {
  request: { path: "string", method: "string" },
  ip: {
    known: "bool",
    version: "int",
    tor_exit: "bool",
    hosting: "bool",
    vpn: "bool",
    known_bad: "bool",
    allowlisted: "bool",
    lists: "list<string>",
    list_reason: "string",
  },
  device: {
    ua_length: "int",
    browser: "string",
    browser_major: "int",
    engine: "string",
    os: "string",
    type: "string",
    automation: "bool",
    headless: "bool",
    known: "bool",
    returning: "bool",
    cookie_invalid: "bool",
    ch_present: "bool",
    ch_mismatch: "bool",
    ch_problems: "list<string>",
    ch_missing: "bool",
    ch_brand: "string",
    ch_platform: "string",
    ch_mobile: "bool",
    key_strength: "string",
  },
  completion: {
    country_sent: "int",
    country_completed: "int",
    country_rate: "double",
    asn_sent: "int",
    asn_completed: "int",
    asn_rate: "double",
    country_any_sent: "int",
    country_any_completed: "int",
    country_any_rate: "double",
    asn_any_sent: "int",
    asn_any_completed: "int",
    asn_any_rate: "double",
    site_any_completed: "int",
    site_any_sent: "int",
    country_any_surprise: "double",
    asn_any_surprise: "double",
  },
  headers: {
    accept_language_missing: "bool",
    accept_language_invalid: "bool",
    languages: "int",
    ua_truncated: "bool",
    ua_invalid_chars: "bool",
    sec_fetch_missing: "bool",
    accept_missing: "bool",
    missing_browser_headers: "int",
    anomalies: "list<string>",
  },
  geo: {
    known: "bool",
    source: "string",
    country: "string",
    region: "string",
    asn: "int",
    as_org: "string",
    new_country: "bool",
    new_asn: "bool",
    distance_km: "double",
    speed_kmh: "double",
    has_location: "bool",
  },
  // privileged: on the rule file's privileged list, or tagged by the origin (facts).
  account: {
    has_history: "bool",
    privileged: "bool",
    known_devices: "int",
    known_countries: "int",
    hours_since_verified: "double",
    // the origin's account roster: off | unanswered | listed | absent (docs/accounts.md)
    roster: "string",
  },
};

/** The schema for a rule set: the fixed sections plus one int per window and distinct count. */
export function contextSchema(spec: Pick<RulesetSpec, "windows" | "distinct">): ContextSchema {
  const ints = (names: string[]) => Object.fromEntries(names.map((n) => [n, "int" as const]));
  return {
    ...FIXED,
    velocity: ints(Object.keys(spec.windows)),
    distinct: ints(Object.keys(spec.distinct)),
  };
}

/** Facts as plain JS values (numbers for int and double), e.g. for explanations and logs. */
export type Facts = Record<string, Record<string, number | string | boolean | readonly string[]>>;

const ZERO: Record<CelScalar, unknown> = { int: 0n, double: 0, string: "", bool: false, "list<string>": [] };

/**
 * Convert facts to CEL values: ints become BigInt, as the CEL evaluator expects, and a
 * missing or mistyped fact reads as its type's zero value, so a condition never throws
 * on a fact a signal did not produce (e.g. facts recorded by an older version).
 */
export function toCelValues(schema: ContextSchema, facts: Facts): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, fields] of Object.entries(schema)) {
    const source = facts[section] ?? {};
    const target: Record<string, unknown> = {};
    for (const [name, type] of Object.entries(fields)) target[name] = celValue(type, source[name]);
    out[section] = target;
  }
  return out;
}

/** One fact as a CEL value of `type` (its zero value when missing or mistyped). */
export function celValue(type: CelScalar, value: unknown): unknown {
  switch (type) {
    case "int":
      return typeof value === "number" && Number.isFinite(value) ? BigInt(Math.trunc(value)) : 0n;
    case "double":
      return typeof value === "number" && Number.isFinite(value) ? value : 0;
    case "list<string>":
      return Array.isArray(value) ? value.filter((v) => typeof v === "string") : [];
    default:
      return typeof value === typeof ZERO[type] ? value : ZERO[type];
  }
}

/**
 * The facts without the ones that read as their type's zero (0, "", false, an empty
 * list) and without empty sections: what the decision log line and the decision event
 * carry. `toCelValues` reads a missing fact as that same zero, so `rules replay` and
 * `rules explain` decide exactly as on the full facts, and an ordinary reset's facts are
 * about half the size (BENCHMARKS.md, "Stage table").
 */
export function nonZeroFacts(facts: Facts): Facts {
  const out: Facts = {};
  for (const section in facts) {
    const fields = facts[section];
    if (fields === undefined) continue;
    let kept: Record<string, number | string | boolean | readonly string[]> | null = null;
    for (const name in fields) {
      const value = fields[name];
      if (value === 0 || value === "" || value === false || value === undefined || (Array.isArray(value) && value.length === 0)) continue;
      kept ??= {};
      kept[name] = value;
    }
    if (kept !== null) out[section] = kept;
  }
  return out;
}
