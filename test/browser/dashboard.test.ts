// The operator dashboard in real headless Chromium, against the gateway as `npm start`
// runs it (wrangler dev, local Durable Objects, the demo origin). An attack played
// while the page is open shows up on its own refresh; a decision is traced to its audit
// event; the page loads nothing from outside the gateway. Screenshots go to
// test-results/dashboard.png and test-results/dashboard-event.png.
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import type { RunningGateway } from "../../tools/gateway.mjs";
import { simulateAttack } from "../../tools/simulate-attack.mjs";
import { CHROMIUM, HAS_CHROMIUM, RESULTS, type Stack, startStack } from "./support.ts";

it.runIf(!HAS_CHROMIUM && process.env.CI === "true")("Chromium is installed (required under CI)", () => {
  throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
});

describe.skipIf(!HAS_CHROMIUM)("operator dashboard in Chromium", () => {
  let stack: Stack;
  let gateway: RunningGateway;

  beforeAll(async () => {
    stack = await startStack();
    gateway = stack.gateway;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const open = (headers: Record<string, string> = { authorization: `Bearer ${DEV_ADMIN_TOKEN}` }): Promise<Page> =>
    stack.open({ width: 1400, headers });

  const total = async (page: Page) => Number(((await page.getByTestId("kpi-total").locator("b").textContent()) ?? "0").replace(/,/g, ""));

  it("an attack played while the page is open appears within seconds, explained and traceable", async () => {
    const page = await open();
    await page.goto(`${gateway.url}/__riskgate/`);
    await expect.poll(() => page.getByTestId("kpi-total").count()).toBe(1);
    const before = await total(page);

    const seen = await simulateAttack({ gateway: gateway.url, accounts: 30 });
    expect(seen.get("browser-bot 403")).toBeGreaterThan(0);

    // The page refreshes itself every 5 s; no reload here. (The poll's limit is the
    // suite's generous one: a backstop, not a speed check.)
    await expect.poll(() => total(page), { interval: 500 }).toBe(before + 35);
    await expect.poll(async () => page.locator("[data-legend]").allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^challenge \d+/), expect.stringMatching(/^deny \d+/)]));
    const reasons = await page.getByTestId("panel-reasons").locator("[data-label]").evaluateAll((els) => els.map((e) => e.getAttribute("data-label")));
    expect(reasons).toEqual(expect.arrayContaining(["DISTINCT_ACCOUNTS_PER_IP", "UA_AUTOMATION"]));
    expect(await page.getByTestId("panel-verdicts").locator("rect[data-series=challenge]").count()).toBeGreaterThan(0);
    expect(await page.locator("[data-dependency=store] .pill").textContent()).toBe("ok");
    expect(await page.locator("[data-dependency=origin] .pill").textContent()).toBe("ok");
    await page.screenshot({ path: join(RESULTS, "dashboard.png"), fullPage: true });

    // Trace a challenged decision to its audit event.
    const row = page.locator("[data-testid=decision-row]", { has: page.locator(".pill.challenge") }).first();
    const decisionId = await row.getAttribute("data-decision-id");
    const eventId = await row.getAttribute("data-event-id");
    await row.click();
    const explanation = page.getByTestId("explanation");
    await expect.poll(() => explanation.textContent()).toMatch(/DISTINCT_ACCOUNTS_PER_IP\s*accounts-per-ip\s*45/);
    // The facts behind the reasons: the distinct-account count the rule compared.
    expect(await explanation.locator("details code").allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^distinct\.accounts_per_ip_1h = \d+$/)]),
    );
    await explanation.locator(`[data-event-link="${eventId}"]`).click();
    await expect.poll(() => page.getByTestId("event-json").textContent()).toContain(`"decision_id": "${decisionId}"`);
    const recorded = JSON.parse((await page.getByTestId("event-json").textContent()) ?? "{}") as { id: string; type: string };
    expect(recorded).toMatchObject({ id: eventId, type: "decision" });
    await page.locator("[data-format=ocsf]").click();
    const ocsf = JSON.parse((await page.getByTestId("event-json").textContent()) ?? "{}") as Record<string, unknown>;
    expect(ocsf).toMatchObject({ class_uid: 4002, disposition_id: 22, metadata: { uid: eventId, correlation_uid: decisionId } });
    await page.getByTestId("panel-event").screenshot({ path: join(RESULTS, "dashboard-event.png") });
  });

  it("a browser without credentials gets the sign-in form, and the token opens the dashboard", async () => {
    const page = await open({});
    const response = await page.goto(`${gateway.url}/__riskgate/`);
    expect(response?.status()).toBe(401);
    expect(await page.locator("[data-testid=decision-row]").count()).toBe(0);
    await page.fill("#token", "not-the-token");
    await page.click("button[type=submit]");
    await expect.poll(() => page.locator("#message").textContent()).toContain("not valid");
    await page.fill("#token", DEV_ADMIN_TOKEN);
    await page.click("button[type=submit]");
    await expect.poll(() => page.locator("[data-testid=decision-row]").count()).toBeGreaterThan(0);
    expect(page.url()).toBe(`${gateway.url}/__riskgate/`);
  });

  it("loaded nothing from outside the gateway and threw no script errors", () => {
    expect(stack.foreignRequests).toEqual([]);
    expect(stack.pageErrors).toEqual([]);
  });
});
