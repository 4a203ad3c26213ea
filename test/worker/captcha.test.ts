// The CAPTCHA step through the whole gateway in workerd, against the local Turnstile
// stand-in (real HTTP, Turnstile's documented siteverify answers): a solved CAPTCHA
// gets through once and earns a pass bound to IP and account; replayed, forged,
// misdirected, expired or spent tokens never pass; a failing provider fails closed.
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import type { MintOptions, StandinCall } from "../../tools/turnstile-standin/server.mjs";
// Brings in the `turnstile` entry of vitest's ProvidedContext.
import type {} from "../support/captcha-setup.ts";
import { type Flood, flood, lineOf, randomIp, STORE_KINDS, type Sent } from "./ratelimit-harness.ts";

const turnstile = inject("turnstile");
const FIELD = "cf-turnstile-response";

afterEach(() => {
  vi.useRealTimers();
});

async function mint(options: Omit<MintOptions, "sitekey"> & { sitekey?: string }): Promise<string> {
  const res = await fetch(`${turnstile.url}/__standin/mint`, { method: "POST", body: JSON.stringify({ sitekey: turnstile.siteKey, ...options }) });
  return ((await res.json()) as { token: string }).token;
}

async function callsFor(token: string): Promise<StandinCall[]> {
  const res = await fetch(`${turnstile.url}/__standin/calls`);
  return ((await res.json()) as { calls: StandinCall[] }).calls.filter((c) => c.response === token);
}

interface Challenge {
  readonly action: string;
  readonly cdata: string;
  readonly site_key: string;
  readonly retry: boolean;
}

/** Five resets for `email` (the account's free allowance), then the challenged sixth. */
async function challenged(f: Flood, email: string, ip: string): Promise<Challenge> {
  for (let i = 0; i < 5; i++) expect((await f.post({ email }, { ip })).status).toBe(202);
  const sent = await f.post({ email }, { ip });
  expect(sent.status).toBe(403);
  return (sent.body as { challenge: Challenge }).challenge;
}

/** A token solved as the challenge asked: on the gateway's host, for its action and cdata. */
const solve = (f: Flood, c: Challenge, over: Partial<MintOptions> = {}) =>
  mint({ hostname: "gateway.test", action: c.action, cdata: c.cdata, ts: f.now(), ...over });

const email = () => `captcha-${crypto.randomUUID()}@example.com`;
/** The pass cookie among the response's cookies (the device cookie is set on every response). */
const passCookie = (sent: Sent) =>
  (sent.headers.getAll("set-cookie") as string[]).find((c) => c.startsWith("riskgate_pass=")) ?? null;
const passFrom = (sent: Sent) => /riskgate_pass=([^;]+)/.exec(passCookie(sent) ?? "")?.[1] ?? "";

describe.each(STORE_KINDS)("CAPTCHA on the %s store", (kind) => {
  it("a solved CAPTCHA gets through once, and a pass spares this IP and account the next one", async () => {
    const f = await flood(kind);
    const [user, ip] = [email(), randomIp()];
    const challenge = await challenged(f, user, ip);
    expect(challenge).toMatchObject({ site_key: turnstile.siteKey, action: "password-reset", retry: false });
    const token = await solve(f, challenge);

    const solved = await f.post({ email: user, [FIELD]: token }, { ip });
    expect(solved.status).toBe(202);
    expect(solved.reasons).toContain("CAPTCHA_PASSED captcha.token");
    expect(lineOf(solved).captcha).toEqual({ status: "passed", via: "token" });
    const calls = await callsFor(token);
    expect(calls).toEqual([expect.objectContaining({ remoteip: ip, outcome: "success", idempotency_key: expect.stringMatching(/^[0-9a-f-]{36}$/) })]);
    const pass = passFrom(solved);
    expect(pass).toMatch(/^v1\.\d+\./);
    expect(passCookie(solved)).toMatch(/HttpOnly; SameSite=Strict; Secure/);
    expect(solved.headers.get("captcha-pass")).toBe(pass);

    // Replayed: refused by our own record, without asking siteverify again.
    for (const from of [ip, randomIp()]) {
      const replay = await f.post({ email: user, [FIELD]: token }, { ip: from });
      expect(replay.status).toBe(403);
      expect(lineOf(replay).captcha).toEqual({ status: "failed", code: "CAPTCHA_REPLAYED" });
      expect(replay.reasons).toContain("CAPTCHA_FAILED captcha.token");
    }
    expect(await callsFor(token)).toHaveLength(1);

    // The pass: this IP and account, for five minutes; in a cookie or a header.
    const withCookie = await f.post({ email: user }, { ip, headers: { cookie: `riskgate_pass=${pass}` } });
    expect([withCookie.status, lineOf(withCookie).captcha]).toEqual([202, { status: "passed", via: "pass" }]);
    expect(passCookie(withCookie)).toBeNull(); // a pass is not extended
    expect((await f.post({ email: user }, { ip, headers: { "captcha-pass": pass } })).status).toBe(202);
    expect((await f.post({ email: user }, { ip: randomIp(), headers: { "captcha-pass": pass } })).status).toBe(403);
    // Another account from the same IP (challenged by now: the IP is past its CAPTCHA step).
    const other = email();
    expect((await f.post({ email: other }, { ip })).status).toBe(403);
    expect((await f.post({ email: other }, { ip, headers: { "captcha-pass": pass } })).status).toBe(403);
    f.advance(5 * 60_000 + 1000);
    expect((await f.post({ email: user }, { ip, headers: { "captcha-pass": pass } })).status).toBe(403);
  });

  it.each<[string, (f: Flood, c: Challenge) => Promise<string>, string]>([
    ["a forged token", async () => "standin.forged-by-a-bot", "CAPTCHA_INVALID"],
    ["a token solved for another account", (f, c) => solve(f, c, { cdata: "another-accounts-cdata" }), "CAPTCHA_CDATA_MISMATCH"],
    ["a token solved on another site", (f, c) => solve(f, c, { hostname: "phish.example" }), "CAPTCHA_HOSTNAME_MISMATCH"],
    ["a token for another action", (f, c) => solve(f, c, { action: "login" }), "CAPTCHA_ACTION_MISMATCH"],
    ["a token for another site key", (f, c) => solve(f, c, { sitekey: "0x4AAAAAAAsomeone-else" }), "CAPTCHA_INVALID"],
    ["a token solved six minutes ago", (f, c) => solve(f, c, { ts: f.now() - 6 * 60_000 }), "CAPTCHA_EXPIRED"],
    [
      "a token already spent at the provider",
      async (f, c) => {
        const token = await solve(f, c);
        const body = new URLSearchParams({ secret: turnstile.secret, response: token });
        await fetch(turnstile.siteverifyUrl, { method: "POST", body });
        return token;
      },
      "CAPTCHA_DUPLICATE",
    ],
  ])("%s never passes", async (_label, make, code) => {
    const f = await flood(kind);
    const [user, ip] = [email(), randomIp()];
    const token = await make(f, await challenged(f, user, ip));
    const sent = await f.post({ email: user, [FIELD]: token }, { ip });
    expect(sent.status).toBe(403);
    expect(lineOf(sent).captcha).toEqual({ status: "failed", code });
    expect((sent.body as { challenge: Challenge }).challenge.retry).toBe(true);
    expect(passCookie(sent)).toBeNull();
  });
});

describe("CAPTCHA provider failures and interplay with the ladder", () => {
  it("fails closed when siteverify errors, and names the dependency", async () => {
    const f = await flood("durable-object");
    const [user, ip] = [email(), randomIp()];
    const token = await solve(f, await challenged(f, user, ip), { fault: "http500" });
    const sent = await f.post({ email: user }, { ip, headers: { "captcha-response": token } });
    expect(sent.status).toBe(403);
    expect(lineOf(sent).errors).toEqual([{ dependency: "captcha", code: "CAPTCHA_UNAVAILABLE", failMode: "challenge" }]);
    expect(sent.reasons).toContain("FAIL_MODE_APPLIED policy.fail-mode");
    expect(await callsFor(token)).toHaveLength(2); // one retry, then the fail mode
  });

  it("retries a transient internal-error with the same idempotency key, and the user gets through", async () => {
    const f = await flood("durable-object");
    const [user, ip] = [email(), randomIp()];
    const token = await solve(f, await challenged(f, user, ip), { fault: "internal-error-once" });
    const sent = await f.post({ email: user, [FIELD]: token }, { ip });
    expect(sent.status).toBe(202);
    const calls = await callsFor(token);
    expect(calls.map((c) => c.outcome)).toEqual(["internal-error-once", "success"]);
    expect(calls[0]?.idempotency_key).toBe(calls[1]?.idempotency_key);
  });

  it("answers a client in a 429 without asking siteverify", async () => {
    const f = await flood("durable-object");
    const ip = randomIp();
    let last: Sent | undefined;
    for (let i = 0; i < 21; i++) last = await f.post({ email: email() }, { ip, ua: `Mozilla/5.0 Chrome/130 n${i}` });
    expect(last?.status).toBe(429);
    const token = await mint({ hostname: "gateway.test", action: "password-reset", cdata: "x", ts: f.now() });
    const sent = await f.post({ email: email(), [FIELD]: token }, { ip });
    expect(sent.status).toBe(429);
    expect(await callsFor(token)).toEqual([]);
  });

  it("gives a browser the HTML page with the widget, its keys and the original fields", async () => {
    const f = await flood("durable-object");
    const [user, ip] = [email(), randomIp()];
    await challenged(f, user, ip);
    const sent = await f.post({ email: user }, { ip, headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(sent.status).toBe(403);
    expect(sent.headers.get("content-type")).toMatch(/^text\/html/);
    expect(sent.headers.get("content-security-policy")).toContain(`script-src 'nonce-`);
    expect(sent.headers.get("content-security-policy")).toContain(new URL(turnstile.scriptUrl).origin);
    const html = String(sent.body.html);
    expect(html).toContain(`${turnstile.scriptUrl}?render=explicit&amp;onload=riskgateCaptchaReady`);
    expect(html).toContain(`"siteKey":"${turnstile.siteKey}"`);
    expect(html).toContain(`"original":{"type":"json","value":{"email":"${user}"}}`);
  });
});
