// Shadow mode and channel budgets inside workerd, against the real Durable Object
// store: the candidate's outcome reaches the decision log and nothing else; the SMS
// budget is counted in the same store batch and switches SMS off per country.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { compileRuleset } from "../../src/scoring/ruleset/compile.ts";
import type { RulesetSpec } from "../../src/scoring/rules/schema.ts";

const CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
const HEADLESS = CHROME.replace("Chrome/", "HeadlessChrome/");

interface Harness {
  gateway: Gateway;
  lines: DecisionLogLine[];
  forwarded: Request[];
}

async function harness(edit: (g: Gateway) => Partial<Gateway>): Promise<Harness> {
  const lines: DecisionLogLine[] = [];
  const forwarded: Request[] = [];
  const base = await createGateway(env);
  const gateway: Gateway = {
    ...base,
    log: (line) => void lines.push(line),
    fetcher: async (input, init) => {
      forwarded.push(new Request(input, init));
      return new Response("{}");
    },
  };
  return { gateway: { ...gateway, ...edit(gateway) }, lines, forwarded };
}

async function send(h: Harness, ua: string, cf: Record<string, unknown> = {}, email = "grace@example.com"): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request("https://gateway.test/password/reset", {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": ua, "cf-connecting-ip": "198.51.100.77" },
    body: JSON.stringify({ email }),
    cf,
  } as RequestInit);
  const res = await createApp(async () => h.gateway).fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const withRules = (spec: RulesetSpec, edit: (s: RulesetSpec) => RulesetSpec, version: string) => compileRuleset(edit(spec), version);

describe("shadow mode", () => {
  const harder = (s: RulesetSpec): RulesetSpec => ({ ...s, rules: s.rules.map((r) => (r.id === "ua-headless" ? { ...r, weight: 100 } : r)) });

  it("logs the candidate's differing verdict and tier, and answers and forwards as live decided", async () => {
    const h = await harness((g) => ({ candidate: withRules(g.ruleset.spec, harder, "candidate-1") }));
    const res = await send(h, HEADLESS);
    expect(res.status).toBe(202);
    expect(h.forwarded).toHaveLength(1);
    const claims = decodeJwt(h.forwarded[0]?.headers.get("riskgate-decision") ?? "");
    expect(claims).toMatchObject({ verdict: "allow", tier: "medium", mode: "live" });
    expect(h.lines).toHaveLength(1);
    const line = h.lines[0];
    expect(line).toMatchObject({ verdict: "allow", tier: "medium", action: "forwarded" });
    expect(line?.candidate).toMatchObject({ rules: "candidate-1", verdict: "deny", tier: "critical", score: 100, changed: true });
    expect(line?.facts.device).toMatchObject({ headless: true });
  });

  it("records an unchanged candidate as unchanged, and no candidate as null", async () => {
    const h = await harness((g) => ({ candidate: withRules(g.ruleset.spec, harder, "candidate-1") }));
    await send(h, CHROME);
    expect(h.lines[0]?.candidate).toMatchObject({ verdict: "allow", tier: "low", changed: false });
    const none = await harness(() => ({ candidate: null }));
    await send(none, CHROME);
    expect(none.lines[0]?.candidate).toBeNull();
  });
});

describe("SMS budget per country", () => {
  const smsFirst = (s: RulesetSpec): RulesetSpec => ({
    ...s,
    channels: { ...s.channels, sms_otp: { ...s.channels.sms_otp, budget: { window: "1h", default: 2, per_country: {} } } },
    tiers: s.tiers.map((t) => (t.name === "low" ? { ...t, channels: ["sms_otp", "email_otp"] } : t)),
  });

  it("offers SMS until the country's budget is spent, then falls back to email", async () => {
    const h = await harness((g) => ({ ruleset: withRules(g.ruleset.spec, smsFirst, "sms-first") }));
    const cf = { country: "IE", asn: 5466, asOrganization: "Eir", regionCode: "L", latitude: "53.3", longitude: "-6.2" };
    // A different browser per request, so only the country ties them together.
    for (let i = 0; i < 3; i++) await send(h, `${CHROME} b/${i}`, cf, `user${i}@budget.example`);
    expect(h.lines.map((l) => l.channel)).toEqual(["sms_otp", "sms_otp", "email_otp"]);
    expect(h.lines.map((l) => l.facts.budget?.sms_otp)).toEqual([1, 2, 3]);
    expect(h.lines[2]?.reasons.map((r) => r.code)).toEqual(["CHANNEL_BUDGET_EXHAUSTED"]);
    // Another country has its own budget.
    await send(h, `${CHROME} b/pt`, { ...cf, country: "PT" }, "pt@budget.example");
    expect(h.lines[3]).toMatchObject({ tier: "low", channel: "sms_otp" });
  });
});
