/**
 * Rule-test fixtures (rules/tests/*.yaml): request facts in, expected tier, verdict,
 * reasons and channels out. Each case names the rule or override it covers and whether
 * that condition must match, so every shipped rule can be held to a matching and a
 * non-matching case (in the manner of the OWASP CRS regression tests).
 */
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import type { Dependency } from "../shared/decision.ts";
import type { ContextSchema, Facts } from "../scoring/rules/context-schema.ts";
import { at, atKey, type ParsedFile, type PathItem, type RuleFile, type RuleFileError } from "../scoring/rules/locate.ts";

/** Dependencies a case (or an explain input) may mark as failed: the Decision type's union, listed. */
export const DEPENDENCIES = ["store", "origin", "captcha", "geo", "rules"] as const satisfies readonly Dependency[];

const scalar = z.union([z.number(), z.string(), z.boolean(), z.array(z.string())]);
const factsShape = z.record(z.string(), z.record(z.string(), scalar));

const testCase = z.strictObject({
  name: z.string().min(1),
  /** The rule or override id this case covers. */
  rule: z.string().min(1),
  /** Whether that rule's condition must hold for these facts. */
  match: z.boolean(),
  /** HMAC'd account key (for privileged lists). */
  account: z.string().optional(),
  facts: factsShape.default({}),
  /** Dependencies that failed before scoring, e.g. [store]. */
  failures: z.array(z.enum(DEPENDENCIES)).default([]),
  expect: z
    .strictObject({
      tier: z.string().optional(),
      verdict: z.enum(["allow", "challenge", "deny"]).optional(),
      score: z.number().int().optional(),
      /** Reason codes, compared as a set. */
      reasons: z.array(z.string()).optional(),
      channel: z.string().optional(),
      channels: z.array(z.string()).optional(),
    })
    .default({}),
});

const fixtureFile = z.strictObject({
  /** Facts every case of the file starts from, merged section by section. */
  base: factsShape.default({}),
  cases: z.array(testCase).min(1),
});

/** One case, ready to run, with its location. */
export interface FixtureCase {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly name: string;
  readonly rule: string;
  readonly match: boolean;
  readonly account: string | null;
  readonly facts: Facts;
  readonly failures: readonly Dependency[];
  readonly expect: z.infer<typeof testCase>["expect"];
}

/** Parse fixture files; facts are checked against the context schema (a typo is an error, not a silent zero). */
export function loadFixtures(files: readonly RuleFile[], schema: ContextSchema): { cases: FixtureCase[]; errors: RuleFileError[] } {
  const cases: FixtureCase[] = [];
  const errors: RuleFileError[] = [];
  for (const file of files) loadFile(file, schema, cases, errors);
  return { cases, errors };
}

function loadFile(file: RuleFile, schema: ContextSchema, cases: FixtureCase[], errors: RuleFileError[]): void {
  const lines = new LineCounter();
  const doc = parseDocument(file.text, { lineCounter: lines, uniqueKeys: true });
  const parsed: ParsedFile = { file, doc, lines };
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    errors.push({ file: file.path, line: pos.line, col: pos.col, message: e.message.split("\n")[0] ?? "" });
  }
  if (doc.errors.length > 0) return;
  const result = fixtureFile.safeParse(doc.toJS());
  if (!result.success) {
    for (const issue of result.error.issues) errors.push(at(parsed, issue.path as PathItem[], `${issue.path.join(".")}: ${issue.message}`));
    return;
  }
  const { base, cases: raw } = result.data;
  errors.push(...factErrors(parsed, ["base"], base, schema));
  raw.forEach((c, i) => {
    const caseErrors = factErrors(parsed, ["cases", i, "facts"], c.facts, schema);
    errors.push(...caseErrors);
    if (caseErrors.length > 0) return;
    const { line, col } = at(parsed, ["cases", i], "");
    const { name, rule, match, failures, expect } = c;
    cases.push({ file: file.path, line, col, name, rule, match, account: c.account ?? null, facts: mergeFacts(base, c.facts), failures, expect });
  });
}

/** Section-by-section merge: the case's fields win over the file's base. */
export function mergeFacts(base: Facts, over: Facts): Facts {
  const out: Record<string, Facts[string]> = { ...base };
  for (const [section, fields] of Object.entries(over)) out[section] = { ...base[section], ...fields };
  return out;
}

const TYPE_OF: Record<string, (v: unknown) => boolean> = {
  int: (v) => typeof v === "number" && Number.isInteger(v),
  double: (v) => typeof v === "number",
  bool: (v) => typeof v === "boolean",
  string: (v) => typeof v === "string",
  "list<string>": (v) => Array.isArray(v),
};

function factErrors(p: ParsedFile, path: PathItem[], facts: Facts, schema: ContextSchema): RuleFileError[] {
  const errors: RuleFileError[] = [];
  for (const [section, fields] of Object.entries(facts)) {
    // `budget` holds channel budget counts (not a CEL section).
    if (section === "budget") continue;
    const declared = schema[section];
    if (declared === undefined) {
      errors.push(atKey(p, [...path, section], `unknown fact section "${section}" (known: ${Object.keys(schema).join(", ")}, budget)`));
      continue;
    }
    for (const [name, value] of Object.entries(fields)) {
      const type = declared[name];
      if (type === undefined) errors.push(atKey(p, [...path, section, name], `unknown fact ${section}.${name}`));
      else if (TYPE_OF[type]?.(value) !== true) errors.push(at(p, [...path, section, name], `${section}.${name} must be ${type}`));
    }
  }
  return errors;
}
