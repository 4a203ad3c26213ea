// A reason code declared in the rule files (rules/reasons.yaml) travels the whole path
// inside workerd: the decision, the decision log line and the origin's signed decision.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { compileRuleset } from "../../src/scoring/ruleset/compile.ts";
import type { RulesetSpec } from "../../src/scoring/rules/schema.ts";

const HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36";

/** The shipped rules plus a declared code and a rule that names it (as the loader accepts them). */
const withDeclared = (s: RulesetSpec): RulesetSpec => ({
  ...s,
  reasons: { ...s.reasons, HEADLESS_RESET_TEST: "A headless browser asked for a reset (declared in a test)." },
  rules: [...s.rules, { id: "headless-declared", when: "device.headless", weight: 5, reason: "HEADLESS_RESET_TEST", mode: "live" }],
});

describe("a reason code declared in the rule files", () => {
  it("reaches the decision log and the origin's signed decision", async () => {
    const lines: DecisionLogLine[] = [];
    const forwarded: Request[] = [];
    const base = await createGateway(env);
    const gateway: Gateway = {
      ...base,
      ruleset: compileRuleset(withDeclared(base.ruleset.spec), "declared-1"),
      candidate: null,
      log: (line) => void lines.push(line),
      fetcher: async (input, init) => {
        forwarded.push(new Request(input, init));
        return new Response("{}");
      },
    };
    const ctx = createExecutionContext();
    const request = new Request("https://gateway.test/password/reset", {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": HEADLESS, "cf-connecting-ip": "198.51.100.78" },
      body: JSON.stringify({ email: "ada@example.com" }),
    });
    const res = await createApp(async () => gateway).fetch(request, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(202);

    expect(lines).toHaveLength(1);
    expect(lines[0]?.rules).toBe("declared-1");
    expect(lines[0]?.reasons).toContainEqual({ code: "HEADLESS_RESET_TEST", rule: "headless-declared", weight: 5 });
    expect(forwarded).toHaveLength(1);
    const claims = decodeJwt(forwarded[0]?.headers.get("riskgate-decision") ?? "");
    expect(claims.reasons).toEqual(expect.arrayContaining(["UA_HEADLESS", "HEADLESS_RESET_TEST"]));
  });
});
