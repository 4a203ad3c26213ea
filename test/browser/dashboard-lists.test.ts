// Operators act where they look: block and release from the dashboard in Chromium
// (the same /__riskgate/api/lists the CLI writes), and sign-in from an experiment URL
// returns to it. Against the gateway as `npm start` runs it (test/browser/support.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import { HAS_CHROMIUM, type Stack, startStack } from "./support.ts";

describe.skipIf(!HAS_CHROMIUM)("dashboard actions in Chromium", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it("blocks an address with a reason and an expiry, lists it, and releases it", async () => {
    const page = await stack.open({ width: 1400, headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
    await page.goto(`${stack.gateway.url}/__riskgate/`);
    await page.getByTestId("list-target").fill("192.0.2.77");
    await page.getByTestId("list-reason").fill("credential stuffing from this host");
    await page.getByTestId("list-expires").fill("2h");
    await page.getByTestId("list-form").locator("button[type=submit]").click();
    await expect.poll(() => page.getByTestId("list-status").textContent()).toBe("added 192.0.2.77 (block)");
    const row = page.getByTestId("live-entry").filter({ hasText: "192.0.2.77" });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain("credential stuffing from this host");
    // The API the CLI uses sees the same entry.
    const listed = await fetch(`${stack.gateway.url}/__riskgate/api/lists`, { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
    expect(JSON.stringify(await listed.json())).toContain('"display":"192.0.2.77"');

    await row.locator("button[data-release]").click();
    await expect.poll(() => page.getByTestId("live-entry").filter({ hasText: "192.0.2.77" }).count()).toBe(0);
    // A refused input says why.
    await page.getByTestId("list-target").fill("192.0.2.1/24");
    await page.getByTestId("list-reason").fill("host bits");
    await page.getByTestId("list-form").locator("button[type=submit]").click();
    await expect.poll(() => page.getByTestId("list-status").textContent()).toMatch(/^refused: /);
  });

  it("signing in from an experiment URL returns to it; the dashboard links to experiments", async () => {
    const page = await stack.open({ width: 1200, headers: {} });
    await page.goto(`${stack.gateway.url}/__riskgate/experiments`);
    await page.locator("#token").fill(DEV_ADMIN_TOKEN);
    await page.locator("button[type=submit]").click();
    await page.waitForURL(`${stack.gateway.url}/__riskgate/experiments`);
    await page.goto(`${stack.gateway.url}/__riskgate/`);
    await page.getByTestId("experiments-link").click();
    await page.waitForURL(`${stack.gateway.url}/__riskgate/experiments`);
  });
});
