import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { formatError, loadRuleset, type RuleFile } from "../../src/scoring/ruleset/load.ts";

const policy = await readFile("rules/policy.yaml", "utf8");
const rules = await readFile("rules/rules.yaml", "utf8");

function errorsOf(files: RuleFile[], overlay: RuleFile[] = []): string[] {
  const live = loadRuleset(files);
  if (overlay.length === 0) return live.ok ? [] : live.errors.map(formatError);
  if (!live.ok) throw new Error("live rules must load");
  const result = loadRuleset(files, { overlay, live: live.spec });
  return result.ok ? [] : result.errors.map(formatError);
}

const load = (extra: string) =>
  errorsOf([
    { path: "rules/policy.yaml", text: policy },
    { path: "rules/extra.yaml", text: extra },
  ]);

const rule = (when: string) => `rules:\n  - id: bad\n    when: ${when}\n    weight: 1\n    reason: UA_MISSING\n`;

describe("loadRuleset", () => {
  it("accepts the shipped rules", () => {
    const result = loadRuleset([
      { path: "rules/policy.yaml", text: policy },
      { path: "rules/rules.yaml", text: rules },
    ]);
    expect(result.ok).toBe(true);
  });

  it.each([
    ["an unknown context field, at its column", rule("device.uaa == 1"), "rules/extra.yaml:3:18: No such key: uaa"],
    ["an unknown field in a quoted condition", rule('"device.known && geo.contry == \\"US\\""'), "rules/extra.yaml:3:32: No such key: contry"],
    ["an unknown field in a block condition", "rules:\n  - id: bad\n    when: |\n      device.known &&\n        geo.contry == 'US'\n    weight: 1\n    reason: UA_MISSING\n", "rules/extra.yaml:5:13: No such key: contry"],
    ["an unknown field in a folded condition", "rules:\n  - id: bad\n    when: >-\n      device.known &&\n      geo.contry == 'US'\n    weight: 1\n    reason: UA_MISSING\n", "rules/extra.yaml:5:11: No such key: contry"],
    ["an unknown section", rule("devices.known"), "rules/extra.yaml:3:11: Unknown variable: devices"],
    ["a type error", rule('"device.browser + 1 > 2"'), "rules/extra.yaml:3:12: no such overload: string + int"],
    ["a syntax error at the end of the condition", rule("device.ua_length >"), "rules/extra.yaml:3:29: Unexpected token: EOF"],
    ["a non-bool condition", rule("device.ua_length + 1"), "rules/extra.yaml:3:11: condition must be bool, not int"],
    ["an unknown reason code", "rules:\n  - id: bad\n    when: device.headless\n    weight: 1\n    reason: NOT_A_CODE\n", 'rules/extra.yaml:5:13: unknown reason code "NOT_A_CODE"; declare a new code with its description under reasons: (rules/reasons.yaml)'],
    ["an unknown key", "rules:\n  - id: bad\n    when: device.headless\n    weight: 1\n    reason: UA_HEADLESS\n    wieght: 2\n", 'rules/extra.yaml:2:5: rules.0: Unrecognized key: "wieght"'],
    ["a duplicate rule id", `${rule("device.headless")}  - id: bad\n    when: device.headless\n    weight: 1\n    reason: UA_HEADLESS\n`, 'rules/extra.yaml:6:9: duplicate id "bad" (first used by rule 1)'],
    ["an override sharing a rule's id", `${rule("device.headless")}overrides:\n  - id: bad\n    when: geo.asn == 1\n    verdict: deny\n`, 'rules/extra.yaml:7:9: duplicate id "bad" (first used by rule 1)'],
    ["an override condition error", "overrides:\n  - id: o\n    when: geo.asn == 'x'\n    verdict: deny\n", "rules/extra.yaml:3:11: no such overload: int == string"],
    ["an override naming an unknown tier", "overrides:\n  - id: o\n    when: geo.asn == 1\n    verdict: allow\n    tier: lowest\n", 'rules/extra.yaml:5:11: unknown tier "lowest" (tiers: low, medium, high, critical)'],
    ["YAML syntax", "rules: [\n", /^rules\/extra\.yaml:2:1: /],
    ["a section defined twice", "tiers: []\n", 'rules/extra.yaml:1:1: section "tiers" is already defined in rules/policy.yaml'],
  ])("reports %s as file:line:col", (_name, extra, expected) => {
    const errors = load(extra);
    expect(errors.length).toBeGreaterThan(0);
    if (typeof expected === "string") expect(errors[0]).toBe(expected);
    else expect(errors[0]).toMatch(expected);
  });

  it.each([
    ["a tier gap", (p: string) => p.replace("min_score: 0\n    verdict: allow\n    channels: [email_link", "min_score: 10\n    verdict: allow\n    channels: [email_link"), /^p\.yaml:\d+:16: gap: scores below 10 match no tier/],
    ["two tiers at one threshold", (p: string) => p.replace("min_score: 60", "min_score: 30"), /^p\.yaml:\d+:16: two tiers start at 30$/],
    ["an undeclared channel", (p: string) => p.replace("channels: [email_otp, sms_otp]", "channels: [email_otp, sms]"), /^p\.yaml:\d+:27: unknown channel "sms" \(declared under channels: email_link, email_otp, sms_otp, voice_otp, totp, push\)$/],
    ["a bad country code", (p: string) => p.replace("countries: [US,", "countries: [usa,"), /^p\.yaml:\d+:17: channels\.sms_otp\.countries\.0: expected an ISO 3166-1 alpha-2 code/],
    ["an unknown channel constraint", (p: string) => p.replace("    cost:\n      default: 0.10\n", "    max_per_day: 3\n    cost:\n      default: 0.10\n"), /^p\.yaml:\d+:5: channels\.sms_otp: Unrecognized key: "max_per_day"$/],
    ["a privileged table weaker than the normal one", (p: string) => p.replace("min_score: 80\n      verdict: deny", "min_score: 120\n      verdict: deny"), /^p\.yaml:\d+:7: privileged tier "high" is weaker than tier "critical" at score 100 \(challenge\+captcha vs deny\)/],
    ["a privileged account key that is not one", (p: string) => p.replace("accounts: []", "accounts: [alice@example.com]"), /^p\.yaml:\d+:14: privileged\.accounts\.0: expected an account key/],
  ])("reports %s", (_name, edit, expected) => {
    const edited = edit(policy);
    expect(edited).not.toBe(policy);
    const errors = errorsOf([{ path: "p.yaml", text: edited }]);
    expect(errors[0]).toMatch(expected);
  });

  describe("reason codes declared in rule files", () => {
    const declared = "reasons:\n  RECENT_RESET_FROM_HOSTING: A reset from a hosting network soon after another.\n";
    const hosting = (reason: string) => `rules:\n  - id: recent-reset-from-hosting\n    when: ip.hosting && velocity.account_1h > 1\n    weight: 15\n    reason: ${reason}\n`;
    const files = (...texts: string[]) => [{ path: "rules/policy.yaml", text: policy }, ...texts.map((text, i) => ({ path: `rules/x${i}.yaml`, text }))];

    it("a rule may name a declared code, and the compiled rule carries it", () => {
      const result = loadRuleset(files(declared, hosting("RECENT_RESET_FROM_HOSTING")));
      if (!result.ok) throw new Error(result.errors.map(formatError).join("\n"));
      expect(result.spec.reasons).toEqual({ RECENT_RESET_FROM_HOSTING: "A reset from a hosting network soon after another." });
      expect(result.spec.rules.find((r) => r.id === "recent-reset-from-hosting")?.reason).toBe("RECENT_RESET_FROM_HOSTING");
    });

    it.each([
      ["an undeclared code, with the closest declared one", [declared, hosting("RECENT_RESET_FROM_HOSTNG")], 'rules/x1.yaml:5:13: unknown reason code "RECENT_RESET_FROM_HOSTNG" (did you mean RECENT_RESET_FROM_HOSTING?); declare a new code with its description under reasons: (rules/reasons.yaml)'],
      ["an undeclared code, with the closest built-in one", [hosting("IP_HOSTING")], 'rules/x0.yaml:5:13: unknown reason code "IP_HOSTING" (did you mean IP_HOSTING_ASN?); declare a new code with its description under reasons: (rules/reasons.yaml)'],
      ["an override naming an undeclared code", ["overrides:\n  - id: o\n    when: geo.asn == 1\n    verdict: deny\n    reason: SANCTIONS\n"], 'rules/x0.yaml:5:13: unknown reason code "SANCTIONS"; declare a new code with its description under reasons: (rules/reasons.yaml)'],
      ["a declared code that is built in", ["reasons:\n  IP_VPN: again\n"], 'rules/x0.yaml:2:11: "IP_VPN" is a built-in reason code (docs/reason-codes.md); declare only new codes under reasons:'],
      ["a code that is not UPPER_SNAKE", ["reasons:\n  recent_hosting: lower case\n"], /^rules\/x0\.yaml:2:\d+: reasons\.recent_hosting: expected an UPPER_SNAKE reason code/],
      ["a code without a description", ["reasons:\n  RECENT_HOSTING: ''\n"], /^rules\/x0\.yaml:2:\d+: reasons\.RECENT_HOSTING: describe what the code means$/],
    ])("refuses %s", (_name, texts, expected) => {
      const result = loadRuleset(files(...texts));
      if (result.ok) throw new Error("must fail");
      const first = formatError(result.errors[0] ?? { file: "", line: 0, col: 0, message: "" });
      if (typeof expected === "string") expect(first).toBe(expected);
      else expect(first).toMatch(expected);
      // One message, not the list of every code.
      expect(first.length).toBeLessThan(250);
    });
  });

  describe("client-visible conditions read request-side facts only", () => {
    it.each([
      ["an allow override on account history", "overrides:\n  - id: trusted-history\n    when: device.known || account.has_history\n    verdict: allow\n", /^rules\/extra\.yaml:3:11: override "trusted-history" decides the answer the client sees .*not account-side account\.has_history: the answer would tell a stranger whether the address has an account/],
      ["a deny override on account-side geo", "overrides:\n  - id: travel\n    when: geo.speed_kmh > 2000.0\n    verdict: deny\n", /^rules\/extra\.yaml:3:11: override "travel" .*not account-side geo\.speed_kmh:/],
      // A deny override on the roster would tell a stranger which addresses have accounts.
      ["a deny override on the account roster", "overrides:\n  - id: no-account\n    when: account.roster == \"absent\"\n    verdict: deny\n", /^rules\/extra\.yaml:3:11: override "no-account" .*not account-side account\.roster:/],
    ])("refuses %s", (_name, extra, expected) => {
      expect(load(extra)[0]).toMatch(expected);
    });

    it("refuses a ladder whose unless reads the privileged tag", () => {
      const edited = policy.replace("unless: device.known", "unless: device.known || account.privileged");
      expect(edited).not.toBe(policy);
      expect(errorsOf([{ path: "p.yaml", text: edited }])[0]).toMatch(/^p\.yaml:\d+:\d+: the "unless" of rate limit "account" lifts a CAPTCHA the client sees, so it may read request-side facts only, not account-side account\.privileged/);
    });

    it("refuses a channel condition on account history", () => {
      const edited = policy.replace("(completion.country_sent < 20 ||", "(account.has_history || completion.country_sent < 20 ||");
      expect(edited).not.toBe(policy);
      expect(errorsOf([{ path: "p.yaml", text: edited }])[0]).toMatch(/^p\.yaml:\d+:\d+: the "when" of channel "sms_otp" can leave a tier without channels, whose no_channel verdict the client sees, so it may read request-side facts only, not account-side account\.has_history/);
    });

    it("accepts request-side overrides and a rule on the same account facts", () => {
      expect(load("overrides:\n  - id: o\n    when: geo.asn == 1 && device.known\n    verdict: allow\n")).toEqual([]);
      expect(load("rules:\n  - id: r\n    when: account.has_history\n    weight: 1\n    reason: UA_MISSING\n")).toEqual([]);
    });
  });

  describe("candidate overlay", () => {
    const live = [
      { path: "rules/policy.yaml", text: policy },
      { path: "rules/rules.yaml", text: rules },
    ];

    it("replaces the live file of the same name and inherits the others", () => {
      const base = loadRuleset(live);
      if (!base.ok) throw new Error("live rules must load");
      const result = loadRuleset(live, {
        overlay: [{ path: "rules/candidate/rules.yaml", text: "rules:\n  - id: only\n    when: device.headless\n    weight: 70\n    reason: UA_HEADLESS\n" }],
        live: base.spec,
      });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.spec.rules.map((r) => r.id)).toEqual(["only"]);
      expect(result.spec.tiers).toEqual(base.spec.tiers);
      expect(result.locations.get("only")).toEqual({ file: "rules/candidate/rules.yaml", line: 2, col: 9 });
    });

    it("adds a file with a new name", () => {
      const base = loadRuleset(live);
      if (!base.ok) throw new Error("live rules must load");
      const result = loadRuleset(live, { overlay: [{ path: "rules/candidate/more.yaml", text: rule("geo.new_asn") }], live: base.spec });
      expect(result.ok && result.spec.rules.length).toBe(base.spec.rules.length + 1);
    });

    const candidatePolicy = (edit: (p: string) => string) => {
      const edited = edit(policy);
      expect(edited).not.toBe(policy);
      return [{ path: "rules/candidate/policy.yaml", text: edited }];
    };

    it.each([
      ["a window live does not count", (p: string) => p.replace("  global_1m: { key: global, window: 1m }\n", "  global_1m: { key: global, window: 1m }\n  ip_1m: { key: ip, window: 1m }\n"), /^rules\/candidate\/policy\.yaml:\d+:10: window "ip_1m" differs from the live rule set/],
      ["a changed window", (p: string) => p.replace("account_1h: { key: account, window: 1h }", "account_1h: { key: account, window: 2h }"), /^rules\/candidate\/policy\.yaml:\d+:15: window "account_1h" differs/],
      ["a budget live does not count", (p: string) => p.replace("    cost: 0.0001\n  email_otp:", "    cost: 0.0001\n    budget: { window: 1d, default: 5 }\n  email_otp:"), /^rules\/candidate\/policy\.yaml:\d+:13: budget of "email_link" needs a live budget with the same window \(none\)$/],
      ["a budgeted channel in a country live does not count", (p: string) => p.replace("countries: [US, CA,", "countries: [BR, US, CA,"), /^rules\/candidate\/policy\.yaml:\d+:16: a budgeted candidate channel cannot allow countries/],
    ])("rejects %s, located in the candidate", (_name, edit, expected) => {
      const errors = errorsOf(live, candidatePolicy(edit));
      expect(errors[0]).toMatch(expected);
    });

    it("locates errors inside a candidate file", () => {
      const errors = errorsOf(live, [{ path: "rules/candidate/w.yaml", text: rule("device.nope") }]);
      expect(errors[0]).toBe("rules/candidate/w.yaml:3:18: No such key: nope");
    });
  });
});
