// Facts → outcome: overrides, privileged accounts, channel constraints and fail modes,
// through the function both the Worker and the CLI run.
import { describe, expect, it } from "vitest";
import { type OutcomeInput, outcomeFor } from "../../src/scoring/verdict.ts";
import type { Facts } from "../../src/scoring/rules/context-schema.ts";
import { compileShipped, compileYaml, facts } from "./support/rulesets.ts";

const input = (f: Facts, extra: Partial<OutcomeInput> = {}): OutcomeInput => ({ facts: f, accountKey: null, failures: [], ...extra });
const codes = (o: { reasons: readonly { code: string }[] }) => o.reasons.map((r) => r.code);

const OVERRIDES = `
overrides:
  - id: allow-office
    when: geo.asn == 64500
    verdict: allow
  - id: deny-country
    when: geo.country in ["KP", "XX"]
    verdict: deny
    reason: GEO_COUNTRY_DENIED
  - id: deny-ipv6-test-asn
    when: ip.version == 6 && geo.asn == 64501
    verdict: deny
  - id: allow-to-medium
    when: geo.asn == 64502
    verdict: allow
    tier: medium
rules:
  - id: bot
    when: device.automation
    weight: 100
    reason: UA_AUTOMATION
`;

describe("overrides", () => {
  const ruleset = compileYaml({ "rules/o.yaml": OVERRIDES });

  it.each([
    ["an allowlisted ASN skips scoring, even for a bot", { geo: { asn: 64500 }, device: { automation: true } }, "allow", "low", ["OVERRIDE_ALLOWLIST"], "allow-office"],
    ["a denied country", { geo: { country: "KP" } }, "deny", "critical", ["GEO_COUNTRY_DENIED"], "deny-country"],
    ["deny wins over allow whatever the order", { geo: { country: "XX", asn: 64500 } }, "deny", "critical", ["GEO_COUNTRY_DENIED"], "deny-country"],
    ["a condition over ip.version", { ip: { version: 6 }, geo: { asn: 64501 } }, "deny", "critical", ["OVERRIDE_DENYLIST"], "deny-ipv6-test-asn"],
    ["the same ASN over IPv4 does not match", { ip: { version: 4 }, geo: { asn: 64501 } }, "allow", "low", [], null],
    ["an allow override can name its tier", { geo: { asn: 64502 } }, "allow", "medium", ["OVERRIDE_ALLOWLIST"], "allow-to-medium"],
    ["without an override, rules score", { device: { automation: true } }, "deny", "critical", ["UA_AUTOMATION"], null],
  ])("%s", (_name, over, verdict, tier, reasons, override) => {
    const o = outcomeFor(ruleset, input(facts(over as Facts)));
    expect(o.verdict).toBe(verdict);
    expect(o.tier).toBe(tier);
    expect(codes(o)).toEqual(reasons);
    expect(o.override).toBe(override);
    if (override !== null) expect(o.score).toBe(0);
  });

  it("a store failure still tightens an allow override (fail modes only make things stricter)", () => {
    const o = outcomeFor(ruleset, input(facts({ geo: { asn: 64500 } }), { failures: [{ dependency: "store", code: "STORE_TIMEOUT" }] }));
    expect(o.verdict).toBe("challenge");
    expect(codes(o)).toEqual(["OVERRIDE_ALLOWLIST", "FAIL_MODE_APPLIED"]);
    expect(o.errors).toEqual([{ dependency: "store", code: "STORE_TIMEOUT", failMode: "challenge" }]);
  });
});

describe("privileged accounts", () => {
  const KEY = "AAAAAAAAAAAAAAAAAAAAAA";
  const ruleset = compileYaml(
    { "rules/r.yaml": "rules:\n  - id: new-country\n    when: geo.new_country\n    weight: 20\n    reason: GEO_NEW_COUNTRY\n  - id: privileged-extra\n    when: account.privileged && geo.new_asn\n    weight: 80\n    reason: GEO_NEW_ASN\n" },
    (p) => p.replace("accounts: []", `accounts: [${KEY}]`),
  );

  it.each([
    ["an unlisted account uses the normal table", null, {}, "low", "allow", "email_link"],
    ["a listed account uses the stricter table", KEY, {}, "medium", "allow", "email_otp"],
    ["an account tagged by the origin too", null, { account: { privileged: true } }, "medium", "allow", "email_otp"],
    // geo.new_country reads history: it raises the tier told to the origin (TOTP), never a client-visible CAPTCHA (SECURITY.md #2).
    ["a listed account at 20 steps up at the origin, not with a CAPTCHA", KEY, { geo: { new_country: true } }, "high", "allow", "totp"],
    ["an unlisted account at 20 stays low", null, { geo: { new_country: true } }, "low", "allow", "email_link"],
    ["rules can read account.privileged", KEY, { geo: { new_asn: true } }, "critical", "deny", "none"],
    ["account.privileged is false for others", null, { geo: { new_asn: true } }, "low", "allow", "email_link"],
  ])("%s", (_name, key, over, tier, verdict, channel) => {
    const o = outcomeFor(ruleset, input(facts(over as Facts), { accountKey: key }));
    expect([o.tier, o.verdict, o.channel]).toEqual([tier, verdict, channel]);
    expect(codes(o).includes("ACCOUNT_PRIVILEGED")).toBe(o.privileged);
  });
});

describe("channels", () => {
  const shipped = compileShipped();
  const medium = { velocity: { account_1h: 6 } };

  it.each([
    ["US under budget: email OTP then SMS", { ...medium }, ["email_otp", "sms_otp"], []],
    ["US at its budget (2000) still gets SMS", { ...medium, budget: { sms_otp: 2000 } }, ["email_otp", "sms_otp"], []],
    ["US over budget: SMS left out", { ...medium, budget: { sms_otp: 2001 } }, ["email_otp"], ["CHANNEL_BUDGET_EXHAUSTED"]],
    ["IE uses the default budget (50)", { ...medium, geo: { country: "IE" }, budget: { sms_otp: 51 } }, ["email_otp"], ["CHANNEL_BUDGET_EXHAUSTED"]],
    ["a country off the allow list", { ...medium, geo: { country: "NG" } }, ["email_otp"], ["CHANNEL_COUNTRY_NOT_ALLOWED"]],
    ["an unknown country", { ...medium, geo: { known: false, country: "" } }, ["email_otp"], ["CHANNEL_COUNTRY_NOT_ALLOWED"]],
    ["no budget count (store failed) counts as spent", { ...medium, budget: { sms_otp: "n/a" } }, ["email_otp"], ["CHANNEL_BUDGET_EXHAUSTED"]],
  ])("%s", (_name, over, channels, extra) => {
    const o = outcomeFor(shipped, input(facts(over as Facts)));
    expect(o.channels).toEqual(channels);
    expect(o.channel).toBe(channels[0]);
    expect(codes(o)).toEqual(["VELOCITY_ACCOUNT", ...extra]);
  });

  const constrained = compileYaml({}, (p) =>
    p
      .replace("  push:\n    description: Approve on a device the account enrolled.\n", "  push:\n    when: device.known\n")
      .replace("channels: [email_link, email_otp]", "channels: [push]"),
  );

  it.each([
    ["a channel condition that holds", { device: { known: true } }, "allow", ["push"], []],
    ["a tier left with no channel falls to its no_channel verdict", {}, "challenge", [], ["CHANNEL_CONDITION_UNMET", "NO_CHANNEL_AVAILABLE"]],
  ])("%s", (_name, over, verdict, channels, reasons) => {
    const o = outcomeFor(constrained, input(facts(over as Facts)));
    expect(o.verdict).toBe(verdict);
    expect(o.channels).toEqual(channels);
    expect(codes(o)).toEqual(reasons);
  });
});

describe("scoring edges", () => {
  it.each([
    ["a negative score uses the lowest tier", { device: { known: true } }, -20, "low"],
    ["exactly at a threshold is in that tier", { velocity: { account_1h: 6 } }, 30, "medium"],
    ["facts missing from a log line read as zero values", { device: {}, geo: {} }, 0, "low"],
  ])("%s", (_name, over, score, tier) => {
    const o = outcomeFor(compileShipped(), input(facts(over as Facts)));
    expect([o.score, o.tier]).toEqual([score, tier]);
  });

  it("a rule that throws counts as not matching and shows in errors under its fail mode", () => {
    const ruleset = compileYaml({ "rules/r.yaml": "rules:\n  - id: divide\n    when: 10 / velocity.ip_10m > 1\n    weight: 50\n    reason: VELOCITY_IP\n" });
    const o = outcomeFor(ruleset, input(facts({ velocity: { ip_10m: 0 } })));
    expect(o.score).toBe(0);
    expect(o.verdict).toBe("allow");
    expect(o.errors).toEqual([{ dependency: "rules", code: "RULE_FAILED:divide", failMode: "allow" }]);
    const strict = compileYaml({ "rules/r.yaml": "rules:\n  - id: divide\n    when: 10 / velocity.ip_10m > 1\n    weight: 50\n    reason: VELOCITY_IP\n" }, (p) => p.replace("rules: allow", "rules: challenge"));
    expect(outcomeFor(strict, input(facts({ velocity: { ip_10m: 0 } }))).verdict).toBe("challenge");
    expect(outcomeFor(strict, input(facts({ velocity: { ip_10m: 2 } }))).score).toBe(50);
  });

  it("shadow-mode rules are recorded, never scored", () => {
    const ruleset = compileYaml({ "rules/r.yaml": "rules:\n  - id: trial\n    when: geo.new_asn\n    weight: 90\n    reason: GEO_NEW_ASN\n    mode: shadow\n" });
    const o = outcomeFor(ruleset, input(facts({ geo: { new_asn: true } })));
    expect([o.score, o.tier]).toEqual([0, "low"]);
    expect(o.shadowReasons).toEqual([{ code: "GEO_NEW_ASN", rule: "trial", weight: 90 }]);
  });
});
