// The experiment report page in real headless Chromium, against the gateway as
// `npm start` runs it (wrangler dev, local Durable Objects, the demo origin), filled by
// the traffic generator (tools/traffic.mjs). The page must show the verdict and the four
// charts for every arm, load nothing from anywhere, and stay closed without credentials.
// Screenshot: test-results/experiment-report.png.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import type { RunningGateway } from "../../tools/gateway.mjs";
import { runTraffic, type TrafficState } from "../../tools/traffic.mjs";
import { CHROMIUM, HAS_CHROMIUM, RESULTS, type Stack, startStack } from "./support.ts";

const EXPERIMENT = "medium-email-vs-sms";
const ARMS = ["email", "sms", "holdout"];

it.runIf(!HAS_CHROMIUM && process.env.CI === "true")("Chromium is installed (required under CI)", () => {
  throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
});

describe.skipIf(!HAS_CHROMIUM)("experiment report in Chromium", () => {
  let stack: Stack;
  let gateway: RunningGateway;
  let traffic: TrafficState;

  /**
   * wrangler dev sometimes rebuilds once after its first "Ready" (its file watcher's
   * first scan): wait until the gateway answers again rather than race the restart.
   */
  async function waitUp(): Promise<void> {
    await vi.waitFor(
      async () => {
        const res = await fetch(`${gateway.url}/.well-known/jwks.json`);
        if (res.status !== 200) throw new Error(`gateway answered ${res.status}`);
      },
      { timeout: 60_000, interval: 250 },
    );
  }

  beforeAll(async () => {
    stack = await startStack(async (started, origin) => {
      gateway = started;
      await waitUp();
      traffic = await runTraffic({ gateway: gateway.url, origin: origin.url, users: 150, seed: 7, concurrency: 8, experiment: EXPERIMENT, token: DEV_ADMIN_TOKEN, quiet: true });
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function open(headers: Record<string, string> = { authorization: `Bearer ${DEV_ADMIN_TOKEN}` }): Promise<Page> {
    await waitUp();
    return stack.open({ width: 1200, headers });
  }

  it("the traffic generator enrolled resets in every arm and reported their outcomes", () => {
    for (const arm of ARMS) {
      const n = [...traffic.seen].filter(([k]) => k.includes(`-> ${arm} `)).reduce((s, [, v]) => s + v, 0);
      expect(n, arm).toBeGreaterThan(0);
    }
    expect(traffic.counted).toBeGreaterThan(50);
  });

  it("renders the verdict, the charts with every arm, and the tables", async () => {
    const page = await open();
    const response = await page.goto(`${gateway.url}/__riskgate/experiments/${EXPERIMENT}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
    await expect.poll(() => page.getByTestId("verdict").locator(".headline").textContent()).toMatch(/^"(email|sms)" is ahead: .* USD per completed reset \(95 % CI /);
    for (const chart of ["chart-cost", "chart-completion", "chart-fraud"]) {
      const svg = page.getByTestId(chart);
      expect(await svg.isVisible(), chart).toBe(true);
      const arms = await svg.locator("g[data-arm]").evaluateAll((els) => els.map((e) => e.getAttribute("data-arm")));
      expect(arms.sort(), chart).toEqual([...ARMS].sort());
      // Each arm has a drawn point inside the plot, and an interval around it.
      const marks = await svg.locator("g[data-arm] circle").count();
      expect(marks, chart).toBe(3);
    }
    const cis = await page.getByTestId("chart-cost").locator("line[data-ci]").count();
    expect(cis).toBe(3);
    const box = await page.getByTestId("chart-cost").boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(500);
    const lines = await page.getByTestId("chart-exposures").locator("g[data-series]").evaluateAll((els) => els.map((e) => [e.getAttribute("data-series"), Number(e.getAttribute("data-last"))]));
    expect(lines.map(([arm]) => arm).sort()).toEqual([...ARMS].sort());
    expect(lines.every(([, n]) => Number(n) > 0)).toBe(true);
    expect(await page.getByTestId("arm-row").count()).toBe(3);
    expect(await page.locator("[data-guardrail]").count()).toBe(4);
    await page.screenshot({ path: join(RESULTS, "experiment-report.png"), fullPage: true });
    expect(existsSync(join(RESULTS, "experiment-report.png"))).toBe(true);
  });

  it("without credentials shows the sign-in form and no report; signing in opens it", async () => {
    const page = await open({});
    const response = await page.goto(`${gateway.url}/__riskgate/experiments/${EXPERIMENT}`);
    expect(response?.status()).toBe(401);
    expect(await page.locator("svg").count()).toBe(0);
    expect(await page.content()).not.toContain("per completed reset");
    await page.fill("#token", DEV_ADMIN_TOKEN);
    await page.click("button[type=submit]");
    // Signing in returns to the page that asked for it (issue 15 item 5), the report.
    await page.waitForURL(`${gateway.url}/__riskgate/experiments/${EXPERIMENT}`);
    await expect.poll(() => page.getByTestId("chart-cost").count()).toBe(1);
  });

  it("loaded nothing from outside the gateway and threw no script errors", () => {
    expect(stack.foreignRequests).toEqual([]);
    expect(stack.pageErrors).toEqual([]);
  });
});
