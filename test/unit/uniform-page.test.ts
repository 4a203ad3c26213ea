// The uniform answer a person sees: a browser's form post (Accept: text/html, as the
// challenge page resubmits after the CAPTCHA) gets a page, not raw JSON, or the route's
// `after_challenge` redirect; the same whether the reset was forwarded or silently
// denied. API clients keep the JSON answer.
import { describe, expect, it } from "vitest";
import { act } from "../../src/reset/act.ts";
import type { Config } from "../../src/gateway/config.ts";
import { DEV_HMAC_SECRET } from "../../src/gateway/config.ts";
import { buildContext } from "../../src/reset/context.ts";
import { createHasher } from "../../src/context/hmac.ts";
import type { Decision } from "../../src/shared/decision.ts";
import type { Gateway } from "../../src/gateway/gateway.ts";
import { DEV_SIGNING_KEY, loadSigningKeys } from "../../src/origin/signing-keys.ts";
import { bundledRuleset } from "../../src/scoring/ruleset/bundled.ts";
import { rulesetSchema } from "../../src/scoring/rules/schema.ts";

async function answer(opts: { form: boolean; accept: string; verdict: "allow" | "deny"; afterChallenge?: string }): Promise<Response> {
  const ruleset = bundledRuleset();
  const base = ruleset.spec.routes[0];
  if (base === undefined) throw new Error("the shipped rules define no route");
  const route = opts.afterChallenge === undefined ? base : { ...base, after_challenge: opts.afterChallenge };
  const request = new Request("https://gw.test/password/reset", {
    method: "POST",
    headers: {
      "content-type": opts.form ? "application/x-www-form-urlencoded" : "application/json",
      accept: opts.accept,
      "cf-connecting-ip": "203.0.113.7",
    },
    body: opts.form ? "email=a%40example.com" : JSON.stringify({ email: "a@example.com" }),
  });
  const ctx = await buildContext(request.clone(), route, {
    hasher: await createHasher(DEV_HMAC_SECRET),
    now: 0,
    trustedIpHeader: null,
    bodyLimit: 8192,
    userAgentLimit: 512,
    geo: () => null,
  });
  const config = { development: true, originUrl: new URL("http://origin.test"), trustedIpHeader: null, captcha: null } as unknown as Config;
  const gateway = {
    config,
    ruleset,
    keys: await loadSigningKeys(JSON.stringify([DEV_SIGNING_KEY])),
    fetcher: async () => new Response("{}", { status: 200 }),
    now: () => 0,
  } as unknown as Gateway;
  const decision: Decision = {
    id: "d-1",
    verdict: opts.verdict,
    tier: "low",
    score: 0,
    channel: opts.verdict === "allow" ? "email_link" : "none",
    channels: opts.verdict === "allow" ? ["email_link"] : [],
    reasons: [],
    mode: "live",
    errors: [],
    rulesetVersion: ruleset.version,
  };
  return (await act(request, ctx, decision, gateway)).response;
}

const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

describe("the uniform answer for a person", () => {
  it("a browser's form post gets a readable page, the same for a forwarded and a silently denied reset", async () => {
    const pages = await Promise.all((["allow", "deny"] as const).map((verdict) => answer({ form: true, accept: BROWSER, verdict })));
    for (const res of pages) {
      expect(res.status).toBe(202);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
    const [forwarded, denied] = await Promise.all(pages.map((r) => r.text()));
    expect(forwarded).toContain("If an account matches, password reset instructions are on their way.");
    expect(forwarded).not.toContain('"status"');
    expect(denied).toBe(forwarded);
  });

  it("API clients (JSON bodies, or no text/html) keep the JSON answer", async () => {
    for (const opts of [{ form: false, accept: BROWSER }, { form: true, accept: "application/json" }, { form: false, accept: "*/*" }]) {
      const res = await answer({ ...opts, verdict: "allow" });
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ status: "accepted" });
    }
  });

  it("a route's after_challenge sends the browser there with a 303, whatever the decision", async () => {
    for (const verdict of ["allow", "deny"] as const) {
      const res = await answer({ form: true, accept: BROWSER, verdict, afterChallenge: "/reset/sent" });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/reset/sent");
    }
  });

  it("after_challenge must be a path on this host", () => {
    const ok = (after: string) => rulesetSchema.shape.routes.safeParse([{ path: "/password/reset", after_challenge: after }]).success;
    expect(ok("//evil.example/x")).toBe(false);
    expect(ok("https://evil.example/")).toBe(false);
    expect(ok("/\\evil.example")).toBe(false);
    expect(ok("/reset/sent?from=challenge")).toBe(true);
  });
});
