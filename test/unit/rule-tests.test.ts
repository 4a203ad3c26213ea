// `npm test` runs the shipped rule tests (rules/tests/*.yaml), one vitest case per
// fixture case, and fails when a shipped rule lacks a matching or non-matching case.
import { describe, expect, it } from "vitest";
import { readRuleFiles } from "../../src/cli/rule-files.ts";
import { runRuleTests } from "../../src/cli/rule-tests.ts";
import { formatError, loadRuleset } from "../../src/scoring/ruleset/load.ts";
import { compileSpec } from "../../src/cli/rule-files.ts";

const files = await readRuleFiles("rules");
const loaded = loadRuleset(files);
if (!loaded.ok) throw new Error(loaded.errors.map(formatError).join("\n"));
const ruleset = compileSpec(loaded.spec);
const report = runRuleTests(ruleset, await readRuleFiles("rules/tests"), loaded.locations);

describe("rules/tests", () => {
  it("has no fixture errors, and every shipped rule and override has a matching and a non-matching case", () => {
    expect(report.errors.map(formatError)).toEqual([]);
  });

  it.each(report.results.map((r) => [`${r.fixture.file}:${r.fixture.line} ${r.fixture.name}`, r] as const))("%s", (_name, r) => {
    expect(r.failures).toEqual([]);
  });
});

describe("the rule-test runner", () => {
  const run = (text: string) => runRuleTests(ruleset, [{ path: "t.yaml", text }], loaded.locations);
  const one = (body: string) => `cases:\n  - name: c\n${body}`;

  it.each([
    ["a rule that matches when the case says it must not", one("    rule: ua-headless\n    match: false\n    facts: { device: { headless: true } }\n"), 'rule "ua-headless" matched, expected it not to match'],
    ["a wrong tier", one("    rule: ua-headless\n    match: true\n    facts: { device: { headless: true, ua_length: 100 } }\n    expect: { tier: high }\n"), "expected tier high, got medium"],
    ["wrong reasons", one("    rule: ua-headless\n    match: true\n    facts: { device: { headless: true, ua_length: 100 } }\n    expect: { reasons: [UA_MISSING] }\n"), "expected reasons [UA_MISSING], got [UA_HEADLESS, IP_UNPARSEABLE, CHANNEL_COUNTRY_NOT_ALLOWED]"],
    ["an unknown rule id", one("    rule: no-such-rule\n    match: true\n"), 'no rule, override or rate limit with an unless "no-such-rule"'],
  ])("fails on %s", (_name, text, message) => {
    const r = run(text);
    expect(r.results[0]?.failures).toContain(message);
  });

  it.each([
    ["a misspelt fact", one("    rule: ua-headless\n    match: true\n    facts: { device: { headles: true } }\n"), "t.yaml:5:24: unknown fact device.headles"],
    ["a fact of the wrong type", one("    rule: ua-headless\n    match: true\n    facts: { device: { headless: 1 } }\n"), "t.yaml:5:34: device.headless must be bool"],
    ["an unknown section", one("    rule: ua-headless\n    match: true\n    facts: { devise: { headless: true } }\n"), /^t\.yaml:5:14: unknown fact section "devise"/],
    ["a case without a rule", "cases:\n  - name: c\n    match: true\n", /^t\.yaml:2:5: cases\.0\.rule: Invalid input/],
  ])("reports %s as file:line:col", (_name, text, expected) => {
    const errors = run(text).errors.map(formatError);
    if (typeof expected === "string") expect(errors).toContain(expected);
    else expect(errors.some((e) => expected.test(e))).toBe(true);
  });

  it("tests a rate limit's unless (whether it waives the ladder's CAPTCHA) as rate_limits.<name>", () => {
    const waived = run(one("    rule: rate_limits.account\n    match: true\n    facts: { device: { known: true } }\n"));
    expect(waived.results[0]?.failures).toEqual([]);
    const kept = run(one("    rule: rate_limits.account\n    match: true\n    facts: { device: { known: false } }\n"));
    expect(kept.results[0]?.failures).toContain('rule "rate_limits.account" did not match, expected it to match');
    const noUnless = run(one("    rule: rate_limits.subnet\n    match: false\n"));
    expect(noUnless.results[0]?.failures).toContain('no rule, override or rate limit with an unless "rate_limits.subnet"');
  });

  it("names each rule that lacks a case, at its definition", () => {
    const errors = run(one("    rule: ua-headless\n    match: true\n")).errors.map(formatError);
    expect(errors).toContain('rules/rules.yaml:16:9: "ua-headless" has no non-matching test case (add one under rules/tests/ with rule: ua-headless, match: false)');
    expect(errors.some((e) => e.startsWith('rules/rules.yaml:16:9: "ua-headless" has no matching'))).toBe(false);
    expect(errors).toContain('rules/overrides.yaml:4:9: "deny-reserved-asn" has no matching test case (add one under rules/tests/ with rule: deny-reserved-asn, match: true)');
  });
});
