// Reading the CAPTCHA parts of a request, and the challenge and 429 responses built from
// a decision: JSON for API clients, an HTML page (strict CSP, escaped data) for browsers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CaptchaConfig } from "../../src/captcha/config.ts";
import type { PreparedCaptcha } from "../../src/captcha/gate.ts";
import { PROVIDERS } from "../../src/captcha/provider.ts";
import { originalBody, readCaptchaRequest } from "../../src/captcha/request.ts";
import type { BodyFields } from "../../src/context/reset-body.ts";
import { escapeHtml, scriptJson } from "../../src/challenge/page.ts";
import { challengeBody, challengeResponse, rateLimitedResponse } from "../../src/challenge/response.ts";
import type { Decision } from "../../src/shared/decision.ts";

const FIELD = "cf-turnstile-response";
/** The fields as the context stage parses them (src/context/reset-body.ts). */
const parsed = (body: string, contentType: string): BodyFields =>
  contentType.startsWith("application/x-www-form-urlencoded")
    ? { type: "form", params: new URLSearchParams(body) }
    : { type: "json", value: JSON.parse(body) as Record<string, unknown> };
const post = (body: string, headers: Record<string, string>) =>
  new Request("https://gateway.test/password/reset", { method: "POST", headers, body });

describe("readCaptchaRequest", () => {
  it.each<[string, string, Record<string, string>, string | null, string | null]>([
    ["a token in the JSON body", `{"email":"a@x.io","${FIELD}":"tok-1"}`, { "content-type": "application/json" }, "tok-1", null],
    ["a token in the form body", `email=a%40x.io&${FIELD}=tok-2`, { "content-type": "application/x-www-form-urlencoded" }, "tok-2", null],
    ["a token in the header (wins over the body)", `{"email":"a@x.io","${FIELD}":"body"}`, { "content-type": "application/json", "captcha-response": "hdr" }, "hdr", null],
    ["a pass cookie", `{"email":"a@x.io"}`, { "content-type": "application/json", cookie: "a=b; riskgate_pass=v1.1.x; c=d" }, null, "v1.1.x"],
    ["a pass header", `{"email":"a@x.io"}`, { "content-type": "application/json", "captcha-pass": "v1.2.y" }, null, "v1.2.y"],
    ["an empty token field", `{"email":"a@x.io","${FIELD}":""}`, { "content-type": "application/json" }, null, null],
    ["a non-string token", `{"email":"a@x.io","${FIELD}":42}`, { "content-type": "application/json" }, null, null],
  ])("%s", (_label, body, headers, token, pass) => {
    const read = readCaptchaRequest(post(body, headers), parsed(body, headers["content-type"] ?? ""), FIELD);
    expect(read.token).toBe(token);
    expect(read.pass).toBe(pass);
  });

  it("keeps the original fields without the token, for the page to resubmit", () => {
    expect(originalBody(parsed(`{"email":"a@x.io","n":1,"${FIELD}":"t"}`, "application/json"), FIELD).body).toEqual({ type: "json", value: { email: "a@x.io", n: 1 } });
    expect(originalBody(parsed(`email=a%40x.io&x=1&x=2&${FIELD}=t`, "application/x-www-form-urlencoded; charset=utf-8"), FIELD).body).toEqual({
      type: "form",
      pairs: [["email", "a@x.io"], ["x", "1"], ["x", "2"]],
    });
  });

  it.each([
    ["text/html, application/xhtml+xml, */*;q=0.8", true],
    ["application/json", false],
    ["*/*", false],
  ])("Accept %s wants HTML: %s", (accept, html) => {
    expect(readCaptchaRequest(post("{}", { "content-type": "application/json", accept }), parsed("{}", "application/json"), FIELD).wantsHtml).toBe(html);
  });

  it("never throws on arbitrary fields, and never keeps the token field", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (value, form) => {
        const json = originalBody({ type: "json", value: { ...value, [FIELD]: "t" } }, FIELD).body;
        expect(json.type === "json" && Object.hasOwn(json.value, FIELD)).toBe(false);
        const pairs = originalBody({ type: "form", params: new URLSearchParams(`${form}&${FIELD}=t`) }, FIELD).body;
        expect(pairs.type === "form" && pairs.pairs.some(([name]) => name === FIELD)).toBe(false);
      }),
    );
  });
});

const CONFIG: CaptchaConfig = {
  profile: PROVIDERS.turnstile,
  siteKey: "0x4AAA-site",
  secret: "secret",
  siteverifyUrl: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
  scriptUrl: "https://challenges.cloudflare.com/turnstile/v0/api.js",
  hostnames: null,
  passSecret: "p".repeat(32),
  passSecretDerived: false,
};
const DECISION: Decision = {
  id: "dec-1", verdict: "challenge", tier: "high", score: 60, channel: "totp", channels: ["totp"], reasons: [], mode: "live", errors: [], rulesetVersion: "v",
};
const ROUTE = { path: "/password/reset", method: "POST", identifier: "email", respond: "uniform" as const };

function prepared(wantsHtml: boolean, email = "a@x.io"): PreparedCaptcha {
  return {
    request: { token: null, pass: null, hostname: "gateway.test", wantsHtml, original: { type: "json", value: { email } } },
    binding: { ip: "ip", account: "acct" },
    tokenKey: null,
    cdata: "CDATA22charsxxxxxxxxxx",
    clientIp: "192.0.2.1",
    now: 0,
  };
}
const input = (wantsHtml: boolean, email?: string) => ({ config: CONFIG, action: "password-reset", prepared: prepared(wantsHtml, email), captcha: { status: "none" } as const, route: ROUTE });

describe("challenge responses", () => {
  it("gives API clients a 403 naming provider, site key, action, cdata and how to resubmit", async () => {
    const res = challengeResponse(DECISION, input(false));
    expect(res.status).toBe(403);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({
      status: "challenge",
      decision: "dec-1",
      challenge: {
        type: "captcha",
        provider: "turnstile",
        site_key: "0x4AAA-site",
        action: "password-reset",
        cdata: "CDATA22charsxxxxxxxxxx",
        script: CONFIG.scriptUrl,
        resubmit: { method: "POST", path: "/password/reset", field: FIELD, header: "captcha-response" },
        retry: false,
      },
    });
  });

  it("leaves out action and cdata for a provider without them", () => {
    const body = challengeBody(DECISION, { ...input(false), config: { ...CONFIG, profile: PROVIDERS.hcaptcha } });
    expect(body.challenge).not.toHaveProperty("action");
    expect(body.challenge).not.toHaveProperty("cdata");
    expect(body.challenge).toMatchObject({ provider: "hcaptcha", resubmit: { field: "h-captcha-response" } });
  });

  it("says provider none when no CAPTCHA is configured", () => {
    expect(challengeBody(DECISION, { ...input(false), config: null }).challenge).toEqual({ type: "captcha", provider: "none", retry: false });
  });

  it("gives browsers an HTML page under a nonce CSP that loads the widget", async () => {
    const res = challengeResponse(DECISION, input(true));
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1] ?? "";
    expect(nonce.length).toBeGreaterThan(10);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-src https://challenges.cloudflare.com");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}" src="https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit&amp;onload=riskgateCaptchaReady"`);
    expect(html.match(/<script nonce=/g)).toHaveLength(2);
  });

  it("embeds the original fields so that no value can end the data block", async () => {
    const evil = `</script><script>alert(1)</script>@x.io`;
    const html = await challengeResponse(DECISION, input(true, evil)).text();
    expect(html).not.toContain("</script><script>alert(1)");
    const data = /<script type="application\/json" id="rg-challenge">(.*?)<\/script>/s.exec(html)?.[1] ?? "";
    expect(JSON.parse(data).original).toEqual({ type: "json", value: { email: evil } });
  });

  it.each([
    ["<b>&\"'", "&lt;b&gt;&amp;&quot;&#39;"],
    ["plain", "plain"],
  ])("escapeHtml(%s)", (text, escaped) => {
    expect(escapeHtml(text)).toBe(escaped);
  });

  it("scriptJson round-trips and never contains '<'", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = scriptJson(value);
        expect(text).not.toContain("<");
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("answers a 429 with Retry-After in whole seconds", async () => {
    const res = rateLimitedResponse({ id: DECISION.id, retryAfter: 61 });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("61");
    expect(await res.json()).toEqual({ status: "rate_limited", decision: "dec-1", retry_after: 61 });
  });

  it("gives every 429 headers of its own (a header set on one is not on the next)", () => {
    const first = rateLimitedResponse({ id: "dec-1", retryAfter: 61 });
    first.headers.append("set-cookie", "rg_device=abc");
    first.headers.set("retry-after", "5");
    const next = rateLimitedResponse({ id: "dec-2", retryAfter: 61 });
    expect(next.headers.get("set-cookie")).toBeNull();
    expect(next.headers.get("retry-after")).toBe("61");
    expect([...next.headers.keys()].sort()).toEqual(["cache-control", "content-type", "referrer-policy", "retry-after", "x-content-type-options"]);
  });
});
