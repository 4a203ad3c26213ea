// Server-side verification against the local Turnstile stand-in (a real HTTP server
// following Cloudflare's documented siteverify responses): every documented outcome,
// the claim checks (hostname, action, cdata, age), retries with one idempotency key,
// timeouts and fail-closed codes.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../src/captcha/provider.ts";
import { type CaptchaCode, parseReply, type SiteverifyOptions, siteverify, type VerifyInput } from "../../src/captcha/siteverify.ts";
import { type MintOptions, startTurnstileStandin, type TurnstileStandin } from "../../tools/turnstile-standin/server.mjs";
import { DUMMY_SECRETS } from "../../tools/turnstile-standin/siteverify.mjs";

const SITE = { siteKey: "0x4AAAAAAAstandin-site", secret: "0x4AAAAAAAstandin-secret" };
const EXPECTED = { hostnames: ["gateway.test"], action: "password-reset", cdata: "acctCDATA" };
const GOOD: Omit<MintOptions, "sitekey"> = { hostname: "gateway.test", action: "password-reset", cdata: "acctCDATA" };

let standin: TurnstileStandin;
let keys = 0;

beforeAll(async () => {
  standin = await startTurnstileStandin({ sites: [SITE], hangLimitMs: 2000 });
});
afterAll(() => standin.close());

function options(over: Partial<SiteverifyOptions> = {}): SiteverifyOptions {
  return {
    profile: PROVIDERS.turnstile,
    url: standin.siteverifyUrl,
    secret: SITE.secret,
    // Generous: the stand-in answers, but a loaded machine may be slow to let it. The
    // timeout case sets its own (the stand-in never answers there).
    timeoutMs: 10_000,
    attempts: 2,
    maxAgeMs: 300_000,
    fetcher: fetch,
    newKey: () => `key-${++keys}`,
    ...over,
  };
}

function mint(over: Partial<MintOptions> = {}): string {
  const token = standin.mint({ sitekey: SITE.siteKey, ...GOOD, ...over });
  if (token === null) throw new Error("stand-in refused to mint");
  return token;
}

const input = (token: string, over: Partial<VerifyInput> = {}): VerifyInput => ({ token, remoteIp: "192.0.2.1", expected: EXPECTED, now: Date.now(), ...over });
const callsFor = (token: string) => standin.calls.filter((c) => c.response === token);
const rejected = (code: CaptchaCode) => ({ ok: false, code, dependency: false });
const failedDependency = (code: CaptchaCode) => ({ ok: false, code, dependency: true });

describe("siteverify against the Turnstile stand-in", () => {
  it("accepts a fresh token solved on our hostname, for our action and this account", async () => {
    const token = mint();
    expect(await siteverify(options(), input(token))).toEqual({ ok: true });
    expect(callsFor(token)).toEqual([expect.objectContaining({ remoteip: "192.0.2.1", idempotency_key: expect.stringMatching(/^key-/) })]);
  });

  it("refuses a token the second time (timeout-or-duplicate)", async () => {
    const token = mint();
    expect(await siteverify(options(), input(token))).toEqual({ ok: true });
    expect(await siteverify(options(), input(token))).toEqual(rejected("CAPTCHA_DUPLICATE"));
  });

  it.each<[string, () => string, Partial<VerifyInput>, object]>([
    ["a forged token (invalid-input-response)", () => "standin.forged-token", {}, rejected("CAPTCHA_INVALID")],
    ["a token for another site key", () => mint({ sitekey: "0x4AAAAAAAother-site" }), {}, rejected("CAPTCHA_INVALID")],
    ["a token older than 300 s (Turnstile expiry)", () => mint({ ts: Date.now() - 301_000 }), {}, rejected("CAPTCHA_DUPLICATE")],
    ["a token older than max_age", () => mint({ ts: Date.now() - 200_000 }), {}, rejected("CAPTCHA_EXPIRED")],
    ["a token solved on another hostname", () => mint({ hostname: "evil.example" }), {}, rejected("CAPTCHA_HOSTNAME_MISMATCH")],
    ["a token for another action", () => mint({ action: "login" }), {}, rejected("CAPTCHA_ACTION_MISMATCH")],
    ["a token solved for another account (cdata)", () => mint({ cdata: "otherACCT" }), {}, rejected("CAPTCHA_CDATA_MISMATCH")],
    ["a token over 2048 characters", () => `x${"y".repeat(2048)}`, {}, rejected("CAPTCHA_INVALID")],
    ["an empty token", () => "", {}, rejected("CAPTCHA_INVALID")],
  ])("refuses %s", async (_label, token, over, expected) => {
    const opts = options({ maxAgeMs: 120_000 });
    expect(await siteverify(opts, input(token(), over))).toEqual(expected);
  });

  it("accepts a hostname from a configured list", async () => {
    const token = mint({ hostname: "www.example.com" });
    const result = await siteverify(options(), input(token, { expected: { ...EXPECTED, hostnames: ["gateway.test", "www.example.com"] } }));
    expect(result).toEqual({ ok: true });
  });

  it("retries internal-error once with the same idempotency key, and the token passes", async () => {
    const token = mint({ fault: "internal-error-once" });
    expect(await siteverify(options(), input(token))).toEqual({ ok: true });
    const calls = callsFor(token);
    expect(calls.map((c) => c.outcome)).toEqual(["internal-error-once", "success"]);
    expect(calls[0]?.idempotency_key).toBe(calls[1]?.idempotency_key);
  });

  it("answers a retry with an idempotency key it already answered with the same answer", async () => {
    const token = mint();
    const same = options({ newKey: () => "fixed-key-for-replayed-retry" });
    expect(await siteverify(same, input(token))).toEqual({ ok: true });
    expect(await siteverify(same, input(token))).toEqual({ ok: true }); // the same key: the first answer again
    expect(await siteverify(options(), input(token))).toEqual(rejected("CAPTCHA_DUPLICATE")); // a new key: spent
  });

  it.each<[string, NonNullable<MintOptions["fault"]>, Partial<SiteverifyOptions>, object, number]>([
    ["internal-error with no retry left", "internal-error-once", { attempts: 1 }, failedDependency("CAPTCHA_UNAVAILABLE"), 1],
    ["HTTP 500 on every attempt", "http500", {}, failedDependency("CAPTCHA_UNAVAILABLE"), 2],
    ["a reply that is not JSON", "garbage", {}, failedDependency("CAPTCHA_BAD_RESPONSE"), 1],
    ["no answer within the timeout", "hang", { timeoutMs: 100 }, failedDependency("CAPTCHA_TIMEOUT"), 2],
  ])("fails as a dependency on %s", async (_label, fault, over, expected, calls) => {
    const token = mint({ fault });
    expect(await siteverify(options(over), input(token))).toEqual(expected);
    expect(callsFor(token)).toHaveLength(calls);
  });

  it.each<[string, string, object]>([
    ["an unknown secret (invalid-input-secret)", "0x4AAAAAAAwrong-secret", failedDependency("CAPTCHA_MISCONFIGURED")],
    ["a missing secret (missing-input-secret)", "", failedDependency("CAPTCHA_MISCONFIGURED")],
    ["the always-failing test secret", DUMMY_SECRETS.fail, rejected("CAPTCHA_INVALID")],
    ["the token-already-spent test secret", DUMMY_SECRETS.spent, rejected("CAPTCHA_DUPLICATE")],
    ["the always-passing test secret", DUMMY_SECRETS.pass, { ok: true }],
  ])("follows the documented answer for %s", async (_label, secret, expected) => {
    expect(await siteverify(options({ secret }), input(mint()))).toEqual(expected);
  });

  it("reports an unreachable provider as a dependency failure", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await siteverify(options({ url: `http://127.0.0.1:${port}/siteverify` }), input(mint()));
    expect(result).toEqual(failedDependency("CAPTCHA_UNAVAILABLE"));
  });

  it("plugs in another provider by profile: no action, cdata or idempotency key, no blind retry", async () => {
    const token = mint({ action: "anything", cdata: "anything", fault: "internal-error-once" });
    const hcaptcha = options({ profile: PROVIDERS.hcaptcha });
    // Without an idempotency key a retry would be answered "spent": it is not retried.
    expect(await siteverify(hcaptcha, input(token))).toEqual(failedDependency("CAPTCHA_UNAVAILABLE"));
    expect(await siteverify(hcaptcha, input(token))).toEqual({ ok: true }); // action and cdata are not checked
    expect(callsFor(token).map((c) => c.idempotency_key)).toEqual([null, null]);
  });
});

describe("parseReply", () => {
  it.each<[string, string, boolean]>([
    ["a success", '{"success":true,"error-codes":[],"hostname":"a"}', true],
    ["a failure", '{"success":false,"error-codes":["invalid-input-response"]}', true],
    ["no success field", '{"hostname":"a"}', false],
    ["success as a string", '{"success":"true"}', false],
    ["not JSON", "<html>", false],
    ["a JSON array", "[true]", false],
  ])("%s", (_label, text, parsed) => {
    expect(parseReply(text) !== null).toBe(parsed);
  });

  it("never throws and never reads a non-boolean success as success", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        const reply = parseReply(text);
        if (reply !== null) expect(typeof reply.success).toBe("boolean");
      }),
    );
  });
});
