// The HTML challenge page in a real headless Chromium: the gateway runs in the local
// Workers runtime (wrangler's unstable_dev, as `npm start` does), siteverify and the
// widget script come from the local Turnstile stand-in, the origin is the demo origin.
// After a flood on one account, a browser's reset is challenged; the page renders the
// widget, and submitting resubmits the original request (same path, same fields) with
// the token, which the gateway verifies and forwards; the pass cookie then spares the
// next challenge. Without Chromium the suite is skipped loudly, and fails under CI=true.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_dev } from "wrangler";
import { DEV_SIGNING_KEY } from "../../src/origin/signing-keys.ts";
import { type DemoOrigin, startDemoOrigin } from "../../tools/demo-origin.mjs";
import { startTurnstileStandin, type TurnstileStandin } from "../../tools/turnstile-standin/server.mjs";
import { TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM } from "./support.ts";

const SITE = { siteKey: "0x4AAAAAAAbrowser-test-site", secret: "0x4AAAAAAAbrowser-test-secret" };
const FIELD = "cf-turnstile-response";
const available = HAS_CHROMIUM;

if (!available) {
  console.error(`\n!!! Chromium not found at ${CHROMIUM}: the challenge-page browser tests are ${process.env.CI === "true" ? "FAILING (CI=true)" : "SKIPPED"}. Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH. !!!\n`);
}

describe.runIf(!available && process.env.CI === "true")("browser prerequisites", () => {
  it("has Chromium under CI", () => {
    throw new Error(`Chromium is required under CI=true (looked at ${CHROMIUM})`);
  });
});

describe.runIf(available)("the challenge page in Chromium", () => {
  let dir = "";
  let origin: DemoOrigin;
  let standin: TurnstileStandin;
  let worker: Awaited<ReturnType<typeof unstable_dev>>;
  let browser: Browser;
  let gateway = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "riskgate-browser-"));
    const { d: _private, ...pub } = DEV_SIGNING_KEY;
    origin = await startDemoOrigin({ port: 0, jwks: { keys: [pub] }, quiet: true });
    standin = await startTurnstileStandin({ sites: [SITE] });
    worker = await unstable_dev("src/index.ts", {
      config: "wrangler.toml",
      persistTo: dir,
      ip: "127.0.0.1",
      port: 0,
      vars: {
        RISKGATE_ENV: "development",
        ORIGIN_URL: origin.url,
        SITEVERIFY_URL: standin.siteverifyUrl,
        CAPTCHA_SCRIPT_URL: standin.scriptUrl,
        TURNSTILE_SITE_KEY: SITE.siteKey,
        TURNSTILE_SECRET_KEY: SITE.secret,
        STORE_TIMEOUT_MS: String(TEST_STORE_TIMEOUT_MS),
      },
      logLevel: "none",
      experimental: { disableExperimentalWarning: true, testMode: true },
    });
    gateway = `http://127.0.0.1:${worker.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await standin?.close();
    await origin?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** An address of its own (the local runtime takes the client IP from CF-Connecting-IP as Cloudflare sets it). */
  const address = () => `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:0:0:0:0:${Math.floor(Math.random() * 0xffff).toString(16)}`;

  /** Five resets for `email` from elsewhere: its sixth in the hour needs a CAPTCHA. */
  async function flood(email: string): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gateway}/password/reset`, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": `Mozilla/5.0 Chrome/130 flood-${i}`, "cf-connecting-ip": address() },
        body: JSON.stringify({ email }),
      });
      expect(res.status).toBe(202);
    }
  }

  /** Solve the stand-in widget (this site key wants a click) and press Continue. */
  async function solveAndContinue(page: Page): Promise<void> {
    await page.locator("#rg-widget input[type=checkbox]").check();
    await expect.poll(() => page.locator("#rg-continue").isEnabled()).toBe(true);
    await page.locator("#rg-continue").click();
  }

  /** Requests the origin accepted with a decision that a solved CAPTCHA let through. */
  const accepted = () => origin.received.filter((r) => r.accepted === true && JSON.stringify(r.claims).includes("CAPTCHA_PASSED")).length;

  it("challenges a form post, shows the widget, and resubmits the form with the token", async () => {
    const email = `browser-form-${crypto.randomUUID()}@example.com`;
    await flood(email);
    const context = await browser.newContext({ extraHTTPHeaders: { "cf-connecting-ip": address() } });
    const page = await context.newPage();
    const before = accepted();
    await page.setContent(`<form id="f" method="post" action="${gateway}/password/reset"><input name="email" value="${email}"><input name="locale" value="en-GB"></form>`);
    const challenge = page.waitForResponse((r) => r.url() === `${gateway}/password/reset`);
    await page.evaluate(`document.getElementById("f").submit()`);
    expect((await challenge).status()).toBe(403);

    await expect.poll(() => page.title()).toBe("One more step");
    await page.locator("#rg-widget .rg-standin-widget").waitFor();
    expect(await page.locator("#rg-continue").isDisabled()).toBe(true);

    const resubmit = page.waitForRequest((r) => r.method() === "POST" && r.url() === `${gateway}/password/reset`);
    const answer = page.waitForResponse((r) => r.url() === `${gateway}/password/reset`);
    await solveAndContinue(page);
    const fields = new URLSearchParams((await resubmit).postData() ?? "");
    expect(fields.get("email")).toBe(email);
    expect(fields.get("locale")).toBe("en-GB");
    const token = fields.get(FIELD) ?? "";
    expect(token).toMatch(/^standin\./);
    const done = await answer;
    expect(done.status()).toBe(202);
    // A page a person can read, not the JSON body an API client gets.
    expect(done.headers()["content-type"]).toMatch(/^text\/html/);
    await expect.poll(() => page.title()).toBe("Check your email");
    expect(await page.locator("h1").textContent()).toBe("Check your email");
    expect(await page.textContent("body")).toContain("If an account matches");
    expect(await page.textContent("body")).not.toContain('"status"');
    expect(standin.calls.filter((c) => c.response === token).map((c) => c.outcome)).toEqual(["success"]);
    // The forward runs after the answer (one answer floor later): wait for the origin to have it.
    await expect.poll(() => accepted(), { timeout: 30_000 }).toBe(before + 1);

    // The pass cookie spares the next challenge for this IP and account.
    const cookies = await context.cookies(`${gateway}/password/reset`);
    expect(cookies.find((c) => c.name === "riskgate_pass")?.httpOnly).toBe(true);
    await page.setContent(`<form id="g" method="post" action="${gateway}/password/reset"><input name="email" value="${email}"></form>`);
    const again = page.waitForResponse((r) => r.url() === `${gateway}/password/reset`);
    await page.evaluate(`document.getElementById("g").submit()`);
    expect((await again).status()).toBe(202);
    await context.close();
  });

  it("challenges a JSON request and resubmits it as JSON with the token", async () => {
    const email = `browser-json-${crypto.randomUUID()}@example.com`;
    await flood(email);
    const context = await browser.newContext({ extraHTTPHeaders: { "cf-connecting-ip": address() } });
    const page = await context.newPage();
    // Navigate with a JSON POST (as an app's own page might send it) to get the HTML challenge.
    await page.route(`${gateway}/password/reset`, (route) =>
      route.continue({ method: "POST", postData: JSON.stringify({ email, client: "web" }), headers: { ...route.request().headers(), "content-type": "application/json" } }),
      { times: 1 },
    );
    const first = await page.goto(`${gateway}/password/reset`);
    expect(first?.status()).toBe(403);
    await page.locator("#rg-widget .rg-standin-widget").waitFor();

    const resubmit = page.waitForRequest((r) => r.method() === "POST" && r.url() === `${gateway}/password/reset`);
    await solveAndContinue(page);
    const body = JSON.parse((await resubmit).postData() ?? "{}") as Record<string, string>;
    expect(body).toMatchObject({ email, client: "web", [FIELD]: expect.stringMatching(/^standin\./) });
    await page.locator("#rg-done").waitFor();
    expect(await page.textContent("#rg-result")).toContain("If an account matches");
    await context.close();
  });
});
