// The final verdict from the tier outcome, the ladders and the CAPTCHA step, and the
// signed pass that spares a second challenge.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CaptchaState } from "../../src/captcha/gate.ts";
import { createPassSigner } from "../../src/captcha/pass.ts";
import type { FailMode } from "../../src/shared/decision.ts";
import { type Outcome, outcomeFor } from "../../src/scoring/verdict.ts";
import { escalate, needsCaptcha } from "../../src/scoring/policy/escalation.ts";
import type { LadderSummary } from "../../src/scoring/policy/rate-limit.ts";
import { compileShipped, facts } from "./support/rulesets.ts";

const live = compileShipped();
const outcome = (over: Parameters<typeof facts>[0] = {}, failures: Outcome["errors"] = []): Outcome =>
  outcomeFor(live, { facts: facts(over), accountKey: null, failures: failures.map((e) => ({ dependency: e.dependency, code: e.code })) });
const LOW = outcome(); // low tier, allow
const HIGH = outcome({ velocity: { account_1h: 6, account_24h: 21 } }); // high tier: challenge, captcha
const CRITICAL = outcome({ device: { automation: true, headless: true }, distinct: { accounts_per_ip_1h: 10 } }); // deny
const ladder = (step: LadderSummary["step"], retryAfter = 0): LadderSummary => ({
  step,
  retryAfter,
  reasons: step === "allow" ? [] : [{ code: step === "captcha" ? "RATE_LIMIT_CHALLENGE" : step === "block" ? "RATE_LIMIT_EXCEEDED" : "PENALTY_BOX", rule: "rate_limits.ip", weight: 0 }],
  penalize: [],
});
const NONE: CaptchaState = { status: "none" };
const PASSED: CaptchaState = { status: "passed", via: "token" };
const FAILED: CaptchaState = { status: "failed", code: "CAPTCHA_REPLAYED" };
const TIMEOUT: CaptchaState = { status: "error", code: "CAPTCHA_TIMEOUT" };
const MISCONFIGURED: CaptchaState = { status: "error", code: "CAPTCHA_MISCONFIGURED" };

describe("escalate", () => {
  it("sanity: the fixtures sit in the tiers the cases assume", () => {
    expect([LOW.verdict, HIGH.verdict, CRITICAL.verdict]).toEqual(["allow", "challenge", "deny"]);
  });

  it.each<[string, Outcome, LadderSummary, CaptchaState, FailMode, string, number, string[]]>([
    ["nothing asks for friction", LOW, ladder("allow"), NONE, "challenge", "allow", 0, []],
    ["a ladder's CAPTCHA step, no token", LOW, ladder("captcha"), NONE, "challenge", "challenge", 0, ["RATE_LIMIT_CHALLENGE"]],
    ["a ladder's CAPTCHA step, token verified", LOW, ladder("captcha"), PASSED, "challenge", "allow", 0, ["RATE_LIMIT_CHALLENGE", "CAPTCHA_PASSED"]],
    ["a ladder's CAPTCHA step, token replayed", LOW, ladder("captcha"), FAILED, "challenge", "challenge", 0, ["RATE_LIMIT_CHALLENGE", "CAPTCHA_FAILED"]],
    ["the high tier, token verified", HIGH, ladder("allow"), PASSED, "challenge", "allow", 0, ["VELOCITY_ACCOUNT", "VELOCITY_ACCOUNT", "CAPTCHA_PASSED"]],
    ["the high tier, no token", HIGH, ladder("allow"), NONE, "challenge", "challenge", 0, ["VELOCITY_ACCOUNT", "VELOCITY_ACCOUNT"]],
    ["a 429 step wins over a solved CAPTCHA", LOW, ladder("block", 60), PASSED, "challenge", "deny", 60, ["RATE_LIMIT_EXCEEDED"]],
    ["a penalty box wins over a silent deny", CRITICAL, ladder("penalty", 120), NONE, "challenge", "deny", 120, ["UA_AUTOMATION", "UA_HEADLESS", "DISTINCT_ACCOUNTS_PER_IP", "PENALTY_BOX"]],
    ["a silent deny is not lifted by a CAPTCHA", CRITICAL, ladder("captcha"), PASSED, "challenge", "deny", 0, ["UA_AUTOMATION", "UA_HEADLESS", "DISTINCT_ACCOUNTS_PER_IP", "RATE_LIMIT_CHALLENGE"]],
    ["siteverify timed out, fail mode challenge (closed)", LOW, ladder("captcha"), TIMEOUT, "challenge", "challenge", 0, ["RATE_LIMIT_CHALLENGE", "FAIL_MODE_APPLIED"]],
    ["siteverify timed out, fail mode allow (open by choice)", LOW, ladder("captcha"), TIMEOUT, "allow", "allow", 0, ["RATE_LIMIT_CHALLENGE"]],
    ["siteverify timed out, fail mode deny", LOW, ladder("captcha"), TIMEOUT, "deny", "deny", 0, ["RATE_LIMIT_CHALLENGE", "FAIL_MODE_APPLIED"]],
    ["our secret refused, even with fail mode allow", LOW, ladder("captcha"), MISCONFIGURED, "allow", "challenge", 0, ["RATE_LIMIT_CHALLENGE", "FAIL_MODE_APPLIED"]],
  ])("%s", (_label, out, lad, captcha, mode, verdict, retryAfter, reasons) => {
    const result = escalate(out, lad, captcha, mode);
    expect(result.verdict).toBe(verdict);
    expect(result.retryAfter).toBe(retryAfter);
    expect(result.reasons.map((r) => r.code)).toEqual(reasons);
    if (verdict === "deny") expect(result.channels).toEqual([]);
    if (verdict === "allow") expect(result.channels).toEqual(out.channels);
  });

  it("names the captcha dependency and the applied mode in errors", () => {
    expect(escalate(LOW, ladder("captcha"), TIMEOUT, "challenge").errors).toEqual([{ dependency: "captcha", code: "CAPTCHA_TIMEOUT", failMode: "challenge" }]);
    expect(escalate(LOW, ladder("captcha"), MISCONFIGURED, "allow").errors).toEqual([{ dependency: "captcha", code: "CAPTCHA_MISCONFIGURED", failMode: "challenge" }]);
  });

  it("keeps a store failure's challenge unless a CAPTCHA is solved", () => {
    const failed = outcome({}, [{ dependency: "store", code: "STORE_TIMEOUT", failMode: "challenge" }]);
    expect(escalate(failed, ladder("allow"), NONE, "challenge").verdict).toBe("challenge");
    expect(escalate(failed, ladder("allow"), PASSED, "challenge").verdict).toBe("allow");
    expect(escalate(failed, ladder("allow"), PASSED, "challenge").reasons.filter((r) => r.code === "FAIL_MODE_APPLIED")).toHaveLength(1);
  });

  it.each<[string, Outcome, LadderSummary, boolean]>([
    ["low tier, ladder allow", LOW, ladder("allow"), false],
    ["low tier, ladder captcha", LOW, ladder("captcha"), true],
    ["high tier", HIGH, ladder("allow"), true],
    ["a 429 (no CAPTCHA can help)", HIGH, ladder("block", 5), false],
    ["a silent deny", CRITICAL, ladder("captcha"), false],
  ])("needsCaptcha: %s", (_label, out, lad, needed) => {
    expect(needsCaptcha(out, lad)).toBe(needed);
  });
});

describe("the signed pass", () => {
  const TTL = 300_000;
  const NOW = 1_800_000_000_000;
  const binding = { ip: "ipKEY", account: "acctKEY" };

  it.each<[string, Partial<typeof binding>, number, (pass: string) => string, boolean]>([
    ["the same IP and account within the TTL", {}, NOW + TTL - 1000, (p) => p, true],
    ["another IP", { ip: "otherIP" }, NOW, (p) => p, false],
    ["no IP where one was bound", { ip: null as unknown as string }, NOW, (p) => p, false],
    ["another account", { account: "otherACCT" }, NOW, (p) => p, false],
    ["after the TTL", {}, NOW + TTL + 1, (p) => p, false],
    ["a later expiry written in", {}, NOW, (p) => p.replace(/^v1\.(\d+)\./, (_m, e) => `v1.${Number(e) + 60}.`), false],
    ["a flipped MAC character", {}, NOW, (p) => `${p.slice(0, -1)}${p.endsWith("A") ? "B" : "A"}`, false],
    ["a truncated pass", {}, NOW, (p) => p.slice(0, 20), false],
  ])("%s: verifies %s", async (_label, over, at, tamper, valid) => {
    const signer = await createPassSigner("p".repeat(32), TTL, false);
    const pass = await signer.issue(binding, NOW);
    expect(await signer.verify(tamper(pass), { ...binding, ...over }, at)).toBe(valid);
  });

  it("refuses a pass signed with another secret, and one from a longer TTL", async () => {
    const pass = await (await createPassSigner("p".repeat(32), TTL, false)).issue(binding, NOW);
    expect(await (await createPassSigner("q".repeat(32), TTL, false)).verify(pass, binding, NOW)).toBe(false);
    const long = await (await createPassSigner("p".repeat(32), 3_600_000, false)).issue(binding, NOW);
    expect(await (await createPassSigner("p".repeat(32), TTL, false)).verify(long, binding, NOW)).toBe(false);
  });

  it("derives a separate key from the account HMAC secret", async () => {
    const derived = await createPassSigner("h".repeat(32), TTL, true);
    const raw = await createPassSigner("h".repeat(32), TTL, false);
    const pass = await derived.issue(binding, NOW);
    expect(await derived.verify(pass, binding, NOW)).toBe(true);
    expect(await raw.verify(pass, binding, NOW)).toBe(false);
  });

  it("never accepts arbitrary input and never throws on it", async () => {
    const signer = await createPassSigner("p".repeat(32), TTL, false);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string().map((s) => `v1.${Math.floor(NOW / 1000) + 10}.${s}`)), async (text) => {
        expect(await signer.verify(text, binding, NOW)).toBe(false);
      }),
    );
  });
});

describe("an operator's account block (ACCOUNT_BLOCKED)", () => {
  const blocked = (over: Parameters<typeof facts>[0] = {}): Outcome =>
    outcomeFor(live, { facts: facts(over), accountKey: null, failures: [], accountBlocked: true });
  const codes = (o: { reasons: readonly { code: string }[] }) => o.reasons.map((r) => r.code);

  it("is a silent deny: the client sees the uniform answer, nothing is forwarded", () => {
    const o = blocked();
    expect(LOW.verdict).toBe("allow");
    expect(o).toMatchObject({ verdict: "deny", silent: true, channels: [], channel: "none", experiment: null });
    expect(codes(o)).toContain("ACCOUNT_BLOCKED");
    expect(escalate(o, ladder("allow"), NONE, "challenge")).toMatchObject({ verdict: "deny", retryAfter: 0 });
  });

  it("still asks the CAPTCHA request-side facts ask for, as for any account, then denies silently", () => {
    const o = blocked({ velocity: { account_1h: 6, account_24h: 21 } });
    expect(needsCaptcha(o, ladder("allow"))).toBe(needsCaptcha(HIGH, ladder("allow")));
    expect(escalate(o, ladder("allow"), NONE, "challenge").verdict).toBe(escalate(HIGH, ladder("allow"), NONE, "challenge").verdict);
    expect(escalate(o, ladder("allow"), PASSED, "challenge").verdict).toBe("deny");
  });

  it("leaves a request-side deny and a ladder's 429 as they were", () => {
    const o = blocked({ device: { automation: true, headless: true }, distinct: { accounts_per_ip_1h: 10 } });
    expect(o.silent).toBe(CRITICAL.silent);
    expect(escalate(o, ladder("penalty", 60), NONE, "challenge")).toMatchObject({ verdict: "deny", retryAfter: 60 });
  });
});
