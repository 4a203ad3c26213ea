/**
 * `riskgate rules test`: run the fixtures in rules/tests/ through the same code the
 * Worker runs (src/scoring/verdict.ts), and hold every rule and override to at least one
 * matching and one non-matching case.
 */
import { type Outcome, type OutcomeInput, celValuesFor, outcomeFor } from "../scoring/verdict.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import type { Location } from "../scoring/ruleset/load.ts";
import type { RuleFile, RuleFileError } from "../scoring/rules/locate.ts";
import { type FixtureCase, loadFixtures } from "./fixtures.ts";

/** One case's result: empty `failures` means it passed. */
export interface CaseResult {
  readonly fixture: FixtureCase;
  readonly failures: readonly string[];
  readonly outcome: Outcome;
}

/** The whole run. */
export interface TestReport {
  readonly results: readonly CaseResult[];
  /** Fixture format problems and rules without a matching or non-matching case. */
  readonly errors: readonly RuleFileError[];
}

/**
 * Whether the case's target holds for its facts, or null if no such target exists. A target
 * is a rule or override id, or `rate_limits.<ladder>` for that ladder's `unless` (whether it
 * waives the ladder's CAPTCHA steps).
 */
function targetMatches(ruleset: CompiledRuleset, input: OutcomeInput, id: string): boolean | null {
  const ladder = id.startsWith("rate_limits.") ? ruleset.ladders.find((l) => `rate_limits.${l.name}` === id) : undefined;
  const test = ladder?.unless ?? (ruleset.rules.find((r) => r.id === id) ?? ruleset.overrides.find((o) => o.id === id))?.test;
  if (test === undefined) return null;
  try {
    return test(celValuesFor(ruleset, input)) === true;
  } catch {
    return false;
  }
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join("\u0000") === [...b].sort().join("\u0000");

/** Run one case; each unmet expectation is one failure message. */
export function runCase(ruleset: CompiledRuleset, fixture: FixtureCase): CaseResult {
  const input: OutcomeInput = {
    facts: fixture.facts,
    accountKey: fixture.account,
    failures: fixture.failures.map((dependency) => ({ dependency, code: "FIXTURE_FAILURE" })),
  };
  const outcome = outcomeFor(ruleset, input);
  const failures: string[] = [];
  const matched = targetMatches(ruleset, input, fixture.rule);
  if (matched === null) failures.push(`no rule, override or rate limit with an unless "${fixture.rule}"`);
  else if (matched !== fixture.match) failures.push(`rule "${fixture.rule}" ${matched ? "matched" : "did not match"}, expected it ${fixture.match ? "to match" : "not to match"}`);
  const want = fixture.expect;
  const check = (what: string, expected: unknown, actual: unknown) => {
    if (expected !== undefined && expected !== actual) failures.push(`expected ${what} ${String(expected)}, got ${String(actual)}`);
  };
  check("tier", want.tier, outcome.tier);
  check("verdict", want.verdict, outcome.verdict);
  check("score", want.score, outcome.score);
  check("channel", want.channel, outcome.channel);
  const codes = outcome.reasons.map((r) => r.code);
  if (want.reasons !== undefined && !sameSet(want.reasons, codes)) {
    failures.push(`expected reasons [${want.reasons.join(", ")}], got [${codes.join(", ")}]`);
  }
  if (want.channels !== undefined && want.channels.join(",") !== outcome.channels.join(",")) {
    failures.push(`expected channels [${want.channels.join(", ")}], got [${outcome.channels.join(", ")}]`);
  }
  return { fixture, failures, outcome };
}

/** Rules and overrides lacking a matching or a non-matching case, located at their ids. */
export function coverageErrors(ruleset: CompiledRuleset, cases: readonly FixtureCase[], locations: ReadonlyMap<string, Location>, testsDir = "rules/tests"): RuleFileError[] {
  const errors: RuleFileError[] = [];
  const ids = [...ruleset.rules.map((r) => r.id), ...ruleset.overrides.map((o) => o.id)];
  for (const id of ids) {
    const where = locations.get(id) ?? { file: "<rules>", line: 1, col: 1 };
    for (const match of [true, false]) {
      if (!cases.some((c) => c.rule === id && c.match === match)) {
        errors.push({ ...where, message: `"${id}" has no ${match ? "matching" : "non-matching"} test case (add one under ${testsDir}/ with rule: ${id}, match: ${match})` });
      }
    }
  }
  return errors;
}

/** Load fixtures and run them all; `testsDir` is where coverage errors tell you to add a case. */
export function runRuleTests(ruleset: CompiledRuleset, files: readonly RuleFile[], locations: ReadonlyMap<string, Location>, testsDir?: string): TestReport {
  const { cases, errors } = loadFixtures(files, ruleset.schema);
  const results = cases.map((c) => runCase(ruleset, c));
  return { results, errors: [...errors, ...coverageErrors(ruleset, cases, locations, testsDir)] };
}
