// The experiments section and the cost table are validated like rules: every mistake is
// a file:line:col message from the loader (riskgate rules check, npm run build).
import { describe, expect, it } from "vitest";
import { sendCostMicros } from "../../src/scoring/experiments/costs.ts";
import { formatError, loadRuleset } from "../../src/scoring/ruleset/load.ts";
import { compileShipped, shipped } from "./support/rulesets.ts";

const GOOD = `experiments:
  - id: try-it
    tier: medium
    start: 2027-01-01
    end: 2027-02-01T00:00:00Z
    arms:
      - id: email
        channels: [email_otp]
      - id: sms
        channels: [sms_otp, email_otp]
        weight: 2
    guardrails:
      fraud_rate: { max: 0.02 }
`;

function errorsOf(text: string): string[] {
  // The shipped policy plus this file in place of experiments.yaml.
  const files = [...shipped.filter((f) => !f.path.endsWith("experiments.yaml")), { path: "rules/x.yaml", text }];
  const result = loadRuleset(files);
  return result.ok ? [] : result.errors.map(formatError);
}

describe("experiments section", () => {
  it("accepts a good experiment and fills defaults", () => {
    expect(errorsOf(GOOD)).toEqual([]);
    const files = [...shipped.filter((f) => !f.path.endsWith("experiments.yaml")), { path: "rules/x.yaml", text: GOOD }];
    const result = loadRuleset(files);
    if (!result.ok) throw new Error("must load");
    const [e] = result.spec.experiments;
    expect(e?.holdout).toBe(0);
    expect(e?.guardrails).toMatchObject({ alpha: 0.01, min_exposures: 100, fraud_rate: { max: 0.02 } });
    expect(e?.arms[0]?.weight).toBe(1);
  });

  it.each([
    ["an unknown tier", GOOD.replace("tier: medium", "tier: mediun"), 'rules/x.yaml:3:11: unknown tier "mediun" (tiers: low, medium, high, critical)'],
    ["a deny tier", GOOD.replace("tier: medium", "tier: critical"), /^rules\/x\.yaml:3:11: tier "critical" denies every request/],
    ["an undeclared channel in an arm", GOOD.replace("[sms_otp, email_otp]", "[sms, email_otp]"), /^rules\/x\.yaml:10:20: unknown channel "sms" \(declared under channels: /],
    ["a channel twice in an arm", GOOD.replace("[sms_otp, email_otp]", "[sms_otp, sms_otp]"), 'rules/x.yaml:10:29: channel "sms_otp" listed twice in arm "sms"'],
    ["two arms with one id", GOOD.replace("id: sms", "id: email"), 'rules/x.yaml:9:13: duplicate arm id "email"'],
    ["the reserved holdout id", GOOD.replace("id: sms", "id: holdout"), 'rules/x.yaml:9:13: "holdout" is reserved for the holdout group'],
    ["an end before the start", GOOD.replace("end: 2027-02-01T00:00:00Z", "end: 2026-12-01"), "rules/x.yaml:5:10: end (2026-12-01) must be after start (2027-01-01)"],
    ["a time without a zone", GOOD.replace("end: 2027-02-01T00:00:00Z", "end: 2027-02-01T00:00:00"), /^rules\/x\.yaml:5:10: experiments\.0\.end: expected a UTC date/],
    ["a bad id", GOOD.replace("id: try-it", "id: Try It"), /^rules\/x\.yaml:2:9: experiments\.0\.id: expected a kebab-case id/],
    ["one arm", GOOD.replace("      - id: sms\n        channels: [sms_otp, email_otp]\n        weight: 2\n", ""), /^rules\/x\.yaml:7:7: experiments\.0\.arms: Too small/],
    ["a holdout above one half", GOOD.replace("tier: medium", "tier: medium\n    holdout: 0.6"), /^rules\/x\.yaml:4:14: experiments\.0\.holdout: Too big/],
    ["a detect rate below the bound", GOOD.replace("{ max: 0.02 }", "{ max: 0.02, detect: 0.01 }"), /^rules\/x\.yaml:13:40: detect \(0\.01\) must be above max/],
    ["an unknown guardrail", GOOD.replace("fraud_rate: { max: 0.02 }", "chargebacks: { max: 0.02 }"), /^rules\/x\.yaml:13:7: experiments\.0\.guardrails: Unrecognized key: "chargebacks"/],
    ["a segment condition error", GOOD.replace("tier: medium", "tier: medium\n    when: geo.countri == \"US\""), /^rules\/x\.yaml:4:15: No such key: countri/],
    ["two experiments on one tier at once", `${GOOD}${GOOD.replace("experiments:\n", "").replace("id: try-it", "id: other").replace("start: 2027-01-01", "start: 2027-01-15")}`, /^rules\/x\.yaml:16:12: experiment "other" overlaps "try-it" on tier "medium"/],
    ["a duplicate experiment id", `${GOOD}${GOOD.replace("experiments:\n", "").replace("start: 2027-01-01", "start: 2028-01-01").replace("end: 2027-02-01T00:00:00Z", "end: 2028-02-01")}`, 'rules/x.yaml:14:9: duplicate experiment id "try-it" (first used by experiment 1)'],
  ])("reports %s", (_name, text, expected) => {
    const errors = errorsOf(text);
    expect(errors.length).toBeGreaterThan(0);
    if (typeof expected === "string") expect(errors[0]).toBe(expected);
    else expect(errors[0]).toMatch(expected);
  });

  it("two experiments on one tier at different times are fine", () => {
    const later = GOOD.replace("experiments:\n", "").replace("id: try-it", "id: later").replace("start: 2027-01-01", "start: 2027-02-01").replace("end: 2027-02-01T00:00:00Z", "end: 2027-03-01");
    expect(errorsOf(`${GOOD}${later}`)).toEqual([]);
  });
});

describe("cost table", () => {
  const ruleset = compileShipped();

  it.each([
    ["SMS to the US", "sms_otp", "US", 8_300],
    ["SMS to Germany", "sms_otp", "DE", 94_300],
    ["SMS to a country without its own price", "sms_otp", "BR", 100_000],
    ["SMS to an unknown country", "sms_otp", null, 100_000],
    ["voice to Japan", "voice_otp", "JP", 92_000],
    ["email (one price everywhere)", "email_otp", "DE", 100],
    ["an authenticator app (no cost)", "totp", "US", 0],
    ["an undeclared channel", "pigeon", "US", null],
  ])("%s", (_name, channel, country, micros) => {
    expect(sendCostMicros(ruleset.spec, channel, country)).toBe(micros);
  });

  it("rejects a negative price and a bad country, with file:line:col", () => {
    const policy = shipped[0]?.text ?? "";
    const edited = [policy.replace("US: 0.0083, CA:", "US: -1, CA:"), policy.replace("US: 0.0083, CA:", "usa: 0.0083, CA:")];
    for (const text of edited) {
      const result = loadRuleset([{ path: "p.yaml", text }]);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(formatError(result.errors[0] ?? { file: "", line: 0, col: 0, message: "" })).toMatch(/^p\.yaml:\d+:\d+: channels\.sms_otp\.cost/);
    }
  });
});
