// The ladder's pure parts: which checks go into the store batch, how the answers become
// a step per ladder, the Retry-After it implies, `unless` waivers, and the rule-file
// checks that keep 429s off the account and global keys.
import { describe, expect, it } from "vitest";
import {
  liftPlan,
  cachedLadder,
  type LadderKeys,
  type LadderState,
  nextBoxMs,
  planLadders,
  readLadders,
  summariseLadders,
  waiveCaptchas,
} from "../../src/scoring/policy/rate-limit.ts";
import type { PenaltyState, RateLimitResult } from "../../src/store/port.ts";
import { compileShipped, compileYaml, facts, shipped } from "./support/rulesets.ts";
import { loadRuleset } from "../../src/scoring/ruleset/load.ts";
import { celValuesFor } from "../../src/scoring/verdict.ts";

const live = compileShipped();
const KEYS: LadderKeys = { account: "acct", ip: "ip1", subnet: "net1", net56: null, net48: null, device: "dev1", asn: "asn:7922" };
const NOW = 1_800_000_000_000;
const MIN = 60_000;
const ok: RateLimitResult = { success: true, remaining: 1, reset: NOW + MIN };
const no = (reset: number): RateLimitResult => ({ success: false, remaining: 0, reset });
const free: PenaltyState = { level: 0, until: 0 };

describe("planLadders", () => {
  it("asks for one check per step and one penalty read per ladder with a box, keyed by ladder and entity", () => {
    const plan = planLadders(live.ladders, KEYS);
    expect(plan.limits.map((l) => [l.key, l.limit, l.windowMs, l.cache])).toEqual([
      ["rl:account.0:acct", 5, 60 * MIN, false],
      ["rl:account.1:acct", 10, 24 * 60 * MIN, false],
      ["rl:ip.0:ip1", 10, 10 * MIN, false],
      ["rl:ip.1:ip1", 20, MIN, true],
      ["rl:subnet.0:net1", 30, 10 * MIN, false],
      ["rl:subnet.1:net1", 60, MIN, true],
      ["rl:device.0:dev1", 20, 10 * MIN, false],
      ["rl:asn.0:asn:7922", 300, 10 * MIN, false],
      ["rl:global.0:global", 1000, MIN, false],
    ]);
    expect(plan.penalties.map((p) => [p.key, p.cache, p.policy])).toEqual([
      ["pen:ip:ip1", true, { baseMs: MIN, factor: 2, maxMs: 60 * MIN, decayMs: 60 * MIN }],
      ["pen:subnet:net1", true, { baseMs: MIN, factor: 2, maxMs: 60 * MIN, decayMs: 60 * MIN }],
    ]);
  });

  it("skips ladders on an entity the request lacks (no IP, no ASN)", () => {
    const plan = planLadders(live.ladders, { ...KEYS, ip: null, subnet: null, asn: null });
    expect(plan.ladders.map((l) => l.ladder.name)).toEqual(["account", "device", "global"]);
    expect(plan.penalties).toEqual([]);
  });
});

/** The shipped plan with every check answered `ok` except the ones named. */
function answers(overrides: Record<string, RateLimitResult>, penalties: Record<string, PenaltyState> = {}) {
  const plan = planLadders(live.ladders, KEYS);
  return {
    plan,
    limits: plan.limits.map((l) => overrides[l.key] ?? ok),
    penalties: plan.penalties.map((p) => penalties[p.key] ?? free),
  };
}

function stepsOf(states: readonly LadderState[]): Record<string, string> {
  return Object.fromEntries(states.filter((s) => s.step !== "allow").map((s) => [s.name, s.step]));
}

describe("readLadders and summariseLadders", () => {
  it.each<[string, Record<string, RateLimitResult>, Record<string, PenaltyState>, Record<string, string>, string, number]>([
    ["everything under its limits", {}, {}, {}, "allow", 0],
    ["the IP over its CAPTCHA step", { "rl:ip.0:ip1": no(NOW + 5 * MIN) }, {}, { ip: "captcha" }, "captcha", 0],
    ["the account over its daily CAPTCHA step", { "rl:account.1:acct": no(NOW + MIN) }, {}, { account: "captcha" }, "captcha", 0],
    // First 429: the window ends in 30 s, the first box (1 min) is longer: Retry-After 60.
    ["the IP over its 429 step", { "rl:ip.1:ip1": no(NOW + 30_000) }, {}, { ip: "block" }, "block", 60],
    // Level 2 after decay: the next box is 4 min.
    ["the IP over its 429 step with two violations remembered", { "rl:ip.1:ip1": no(NOW + 30_000) }, { "pen:ip:ip1": { level: 2, until: 0 } }, { ip: "block" }, "block", 240],
    ["the IP in a penalty box for 90 s more", {}, { "pen:ip:ip1": { level: 1, until: NOW + 90_000 } }, { ip: "penalty" }, "penalty", 90],
    ["a penalty box wins over the ladder's other steps", { "rl:ip.0:ip1": no(NOW + MIN), "rl:ip.1:ip1": no(NOW + MIN) }, { "pen:ip:ip1": { level: 3, until: NOW + 1500 } }, { ip: "penalty" }, "penalty", 2],
    ["the subnet's 429 with the IP's CAPTCHA", { "rl:subnet.1:net1": no(NOW + 45_000), "rl:ip.0:ip1": no(NOW + MIN) }, {}, { ip: "captcha", subnet: "block" }, "block", 60],
  ])("%s", (_label, limits, penalties, steps, step, retryAfter) => {
    const a = answers(limits, penalties);
    const states = readLadders(a.plan, a.limits, a.penalties, NOW);
    expect(stepsOf(states)).toEqual(steps);
    const summary = summariseLadders(states);
    expect(summary.step).toBe(step);
    expect(summary.retryAfter).toBe(retryAfter);
  });

  it("names a reason per ladder and escalates only the ladders whose 429 step bit", () => {
    const a = answers({ "rl:ip.1:ip1": no(NOW + 10_000), "rl:device.0:dev1": no(NOW + MIN) }, { "pen:subnet:net1": { level: 1, until: NOW + 5000 } });
    const summary = summariseLadders(readLadders(a.plan, a.limits, a.penalties, NOW));
    expect(summary.reasons).toEqual([
      { code: "RATE_LIMIT_EXCEEDED", rule: "rate_limits.ip", weight: 0 },
      { code: "PENALTY_BOX", rule: "rate_limits.subnet", weight: 0 },
      { code: "RATE_LIMIT_CHALLENGE", rule: "rate_limits.device", weight: 0 },
    ]);
    expect(summary.penalize).toEqual([{ key: "pen:ip:ip1", now: NOW, policy: { baseMs: MIN, factor: 2, maxMs: 60 * MIN, decayMs: 60 * MIN } }]);
  });

  it("rounds Retry-After up to whole seconds and never below 1", () => {
    const a = answers({}, { "pen:ip:ip1": { level: 1, until: NOW + 1 } });
    expect(summariseLadders(readLadders(a.plan, a.limits, a.penalties, NOW)).retryAfter).toBe(1);
  });

  it.each([
    [0, MIN],
    [1, 2 * MIN],
    [5, 32 * MIN],
    [6, 60 * MIN],
    [40, 60 * MIN],
  ])("the box after level %i is %i ms (base 1m, factor 2, cap 1h)", (level, box) => {
    expect(nextBoxMs({ baseMs: MIN, factor: 2, maxMs: 60 * MIN, decayMs: 60 * MIN }, level)).toBe(box);
  });
});

describe("cachedLadder", () => {
  it.each<[string, "rate-limit" | "penalty", string, string]>([
    ["rl:ip.1:ip1", "rate-limit", "ip", "block"],
    ["pen:subnet:net1", "penalty", "subnet", "penalty"],
  ])("attributes a cached block on %s to its ladder", (key, kind, name, step) => {
    const plan = planLadders(live.ladders, KEYS);
    const state = cachedLadder(plan, { key, kind, until: NOW + 12_300 }, NOW);
    expect(state).toMatchObject({ name, step, retryAfterMs: 12_300 });
    expect(summariseLadders([state]).retryAfter).toBe(13);
  });
});

describe("unless (victim protection)", () => {
  const a = answers({ "rl:account.0:acct": no(NOW + MIN), "rl:ip.0:ip1": no(NOW + MIN) });
  const states = readLadders(a.plan, a.limits, a.penalties, NOW);
  const values = (known: boolean) => celValuesFor(live, { facts: facts({ device: { known } }), accountKey: null, failures: [] });

  it("waives the account's CAPTCHA step for a known device, and nothing else", () => {
    const waived = waiveCaptchas(states, live.ladders, values(true));
    expect(stepsOf(waived)).toEqual({ ip: "captcha" });
    expect(waived.find((s) => s.name === "account")?.waived).toBe(true);
  });

  it("keeps the CAPTCHA for a device the account has not verified with", () => {
    expect(stepsOf(waiveCaptchas(states, live.ladders, values(false)))).toEqual({ account: "captcha", ip: "captcha" });
  });

  it("never waives a 429 or a penalty box", () => {
    const blocked = answers({ "rl:ip.1:ip1": no(NOW + MIN) }, { "pen:subnet:net1": { level: 1, until: NOW + MIN } });
    // The shipped ip ladder's own unless (a crowd behind one address) is replaced by one that holds.
    const ruleset = compileYaml({}, (text) => text.replace(/( {2}ip:\n {4}key: ip\n)[\s\S]*?( {4}steps:)/, "$1    unless: device.known\n$2"));
    expect(ruleset.ladders.find((l) => l.name === "ip")?.unless).not.toBeNull();
    const read = readLadders(blocked.plan, blocked.limits, blocked.penalties, NOW);
    const all = celValuesFor(ruleset, { facts: facts({ device: { known: true } }), accountKey: null, failures: [] });
    expect(stepsOf(waiveCaptchas(read, ruleset.ladders, all))).toEqual({ ip: "block", subnet: "penalty" });
  });
});

describe("rule-file checks on rate_limits", () => {
  const withLadders = (yaml: string) => {
    const policy = shipped[0]?.text ?? "";
    const text = policy.replace(/^rate_limits:\n(?: {2}.*\n|\n)*?(?=^\S)/m, `rate_limits:\n${yaml}\n`);
    return loadRuleset([{ path: "rules/policy.yaml", text }, ...shipped.slice(1)]);
  };
  const messages = (yaml: string) => {
    const result = withLadders(yaml);
    return result.ok ? [] : result.errors.map((e) => `${e.line}: ${e.message}`);
  };

  it("accepts a ladder replacing the shipped ones (the harness edits the right section)", () => {
    expect(withLadders("  ip:\n    key: ip\n    steps:\n      - { action: block, limit: 5, window: 1m }").ok).toBe(true);
  });

  it.each<[string, string, RegExp]>([
    ["a 429 on the account key", "  a:\n    key: account\n    steps:\n      - { action: block, limit: 5, window: 1h }", /lock the owner out/],
    ["a 429 on the global key", "  g:\n    key: global\n    steps:\n      - { action: block, limit: 5, window: 1m }", /lock every user out/],
    ["a penalty without a 429 step", "  i:\n    key: ip\n    steps:\n      - { action: captcha, limit: 5, window: 1m }\n    penalty: { base: 1m, factor: 2, max: 1h, decay: 1h }", /add a block step/],
    ["a penalty cap below its base", "  i:\n    key: ip\n    steps:\n      - { action: block, limit: 5, window: 1m }\n    penalty: { base: 1h, factor: 2, max: 1m, decay: 1h }", /max must be at least base/],
    ["a CAPTCHA step behind a lower 429 step", "  i:\n    key: ip\n    steps:\n      - { action: captcha, limit: 50, window: 1m }\n      - { action: block, limit: 20, window: 1m }", /never reached/],
    ["an unknown fact in unless", "  a:\n    key: account\n    unless: device.knwon\n    steps:\n      - { action: captcha, limit: 5, window: 1h }", /knwon/],
    ["a factor below 1", "  i:\n    key: ip\n    steps:\n      - { action: block, limit: 5, window: 1m }\n    penalty: { base: 1m, factor: 0.5, max: 1h, decay: 1h }", /factor/],
    ["an unknown action", "  i:\n    key: ip\n    steps:\n      - { action: tarpit, limit: 5, window: 1m }", /action/],
  ])("refuses %s, with its line", (_label, yaml, message) => {
    const found = messages(yaml);
    expect(found.join("\n")).toMatch(message);
    expect(found.every((m) => /^\d+: /.test(m))).toBe(true);
  });
});

describe("a shadow candidate and the ladders", () => {
  const live = loadRuleset(shipped);
  const policy = shipped[0]?.text ?? "";
  const candidate = (text: string) => {
    if (!live.ok) throw new Error("shipped rules do not load");
    return loadRuleset(shipped, { overlay: [{ path: "rules/candidate/policy.yaml", text }], live: live.spec });
  };

  it("accepts a copy of the live policy (ladders unchanged)", () => {
    expect(candidate(policy).ok).toBe(true);
  });

  it.each<[string, string, string, RegExp]>([
    ["a changed ladder", "      - { action: block, limit: 20, window: 1m }", "      - { action: block, limit: 25, window: 1m }", /^rules\/candidate\/policy\.yaml:\d+:\d+: rate_limits differs from the live rule set/],
    ["changed CAPTCHA settings", "  pass_ttl: 5m", "  pass_ttl: 10m", /^rules\/candidate\/policy\.yaml:\d+:\d+: captcha differs from the live rule set/],
  ])("refuses %s, located in the candidate", (_label, from, to, message) => {
    const text = policy.replace(from, to);
    expect(text).not.toBe(policy);
    const result = candidate(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(`${result.errors[0]?.file}:${result.errors[0]?.line}:${result.errors[0]?.col}: ${result.errors[0]?.message}`).toMatch(message);
  });
});

describe("liftPlan", () => {
  it("names every ladder on the key's kind: its penalty box and each step's window, as planLadders keys them", () => {
    const plan = liftPlan(live.ladders, "ip", "E".repeat(22));
    const ip = live.ladders.find((l) => l.name === "ip");
    expect(plan.ladders).toEqual(live.ladders.filter((l) => l.key === "ip").map((l) => l.name));
    expect(plan.penalties).toContain(`pen:ip:${"E".repeat(22)}`);
    expect(plan.limits).toEqual((ip?.steps ?? []).map((s, i) => ({ key: `rl:ip.${i}:${"E".repeat(22)}`, limit: s.limit, windowMs: s.windowMs })));
    expect(liftPlan(live.ladders, "account", "E".repeat(22)).penalties).toEqual([]);
  });
});
