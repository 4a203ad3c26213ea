import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { formatError, loadRuleset, type RuleFile } from "../../src/rules/load.ts";

const policy = await readFile("rules/policy.yaml", "utf8");
const rules = await readFile("rules/rules.yaml", "utf8");

function load(extra: string): string[] {
  const files: RuleFile[] = [
    { path: "rules/policy.yaml", text: policy },
    { path: "rules/extra.yaml", text: extra },
  ];
  const result = loadRuleset(files);
  return result.ok ? [] : result.errors.map(formatError);
}

describe("loadRuleset", () => {
  it("accepts the shipped rules", () => {
    const result = loadRuleset([
      { path: "rules/policy.yaml", text: policy },
      { path: "rules/rules.yaml", text: rules },
    ]);
    expect(result.ok).toBe(true);
  });

  it.each([
    [
      "an unknown context field",
      "rules:\n  - id: bad\n    when: device.uaa == 1\n    weight: 1\n    reason: UA_MISSING\n",
      /^rules\/extra\.yaml:3:\d+: No such key: uaa$/,
    ],
    [
      "a type error, at its column",
      'rules:\n  - id: bad\n    when: "device.browser + 1 > 2"\n    weight: 1\n    reason: UA_MISSING\n',
      /^rules\/extra\.yaml:3:\d+: no such overload/,
    ],
    [
      "a non-bool condition",
      "rules:\n  - id: bad\n    when: device.ua_length + 1\n    weight: 1\n    reason: UA_MISSING\n",
      /^rules\/extra\.yaml:3:11: condition must be bool, not int$/,
    ],
    [
      "an unknown reason code",
      "rules:\n  - id: bad\n    when: device.headless\n    weight: 1\n    reason: NOT_A_CODE\n",
      /^rules\/extra\.yaml:5:13: rules\.0\.reason: Invalid option/,
    ],
    [
      "an unknown key",
      "rules:\n  - id: bad\n    when: device.headless\n    weight: 1\n    reason: UA_HEADLESS\n    wieght: 2\n",
      /^rules\/extra\.yaml:2:5: rules\.0: Unrecognized key: "wieght"$/,
    ],
    [
      "a duplicate rule id",
      "rules:\n  - id: dup\n    when: device.headless\n    weight: 1\n    reason: UA_HEADLESS\n  - id: dup\n    when: device.headless\n    weight: 1\n    reason: UA_HEADLESS\n",
      /^rules\/extra\.yaml:6:9: duplicate rule id "dup"/,
    ],
    ["YAML syntax", "rules: [\n", /^rules\/extra\.yaml:2:1: /],
    ["a section defined twice", "tiers: []\n", /^rules\/extra\.yaml:1:\d+: section "tiers" is already defined in rules\/policy\.yaml$/],
  ])("reports %s as file:line:col", (_name, extra, expected) => {
    const errors = load(extra);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(expected);
  });

  it("reports a tier gap", () => {
    const gapped = policy.replace("min_score: 0", "min_score: 10");
    const result = loadRuleset([{ path: "p.yaml", text: gapped }]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(formatError(result.errors[0] as never)).toMatch(/^p\.yaml:\d+:\d+: gap: scores below 10/);
  });
});
