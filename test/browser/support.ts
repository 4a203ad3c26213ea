// What the browser suites share: where Chromium is and how it is launched, and the stack
// `npm start` runs (the demo origin and the gateway under wrangler dev with local
// Durable Objects), started on free ports and stopped again.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { type DemoOrigin, startDemoOrigin } from "../../tools/demo-origin.mjs";
import { freePort, type RunningGateway, startGateway } from "../../tools/gateway.mjs";
import { TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
export const HAS_CHROMIUM = existsSync(CHROMIUM);
/** Screenshots go here. */
export const RESULTS = join(process.cwd(), "test-results");

/** The gateway as `npm start` runs it, in front of the demo origin, and a browser. */
export interface Stack {
  readonly origin: DemoOrigin;
  readonly gateway: RunningGateway;
  readonly browser: Browser;
  /** Errors thrown in any page, and requests any page made outside the gateway. */
  readonly pageErrors: string[];
  readonly foreignRequests: string[];
  /** A page with its own context, watched for errors and foreign requests. */
  open(options: { width: number; headers?: Record<string, string> }): Promise<Page>;
  stop(): Promise<void>;
}

/** Start the demo origin, the gateway (wrangler dev) and Chromium; `ready` runs before Chromium starts. */
export async function startStack(ready: (gateway: RunningGateway, origin: DemoOrigin) => Promise<void> = async () => {}): Promise<Stack> {
  const port = await freePort();
  const origin = await startDemoOrigin({ port: 0, jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, quiet: true });
  const persist = mkdtempSync(join(tmpdir(), "riskgate-browser-"));
  const stopServers = async () => {
    await gateway?.stop();
    await origin.close();
    rmSync(persist, { recursive: true, force: true });
  };
  let gateway: RunningGateway | undefined;
  let browser: Browser;
  try {
    gateway = await startGateway({
      port,
      persistTo: persist,
      // wrangler dev builds, then starts workerd: 90 s (the default) was not enough on a
      // busy machine while other suites start their own. A backstop, not a speed check.
      readyTimeoutMs: 300_000,
      // The tests' store timeout (vitest.config.ts): a loaded machine must not turn the
      // traffic these suites play into store failures.
      vars: { RISKGATE_ENV: "development", ORIGIN_URL: origin.url, STORE_TIMEOUT_MS: String(TEST_STORE_TIMEOUT_MS) },
    });
    await ready(gateway, origin);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (err) {
    // Nothing is left running when the start fails half way.
    await stopServers();
    throw err;
  }
  const started = gateway;
  mkdirSync(RESULTS, { recursive: true });
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];
  return {
    origin,
    gateway: started,
    browser,
    pageErrors,
    foreignRequests,
    async open({ width, headers = {} }) {
      const context = await browser.newContext({ viewport: { width, height: 1000 }, extraHTTPHeaders: headers });
      const page = await context.newPage();
      page.on("pageerror", (err) => pageErrors.push(err.message));
      page.on("request", (req) => {
        if (!req.url().startsWith(started.url)) foreignRequests.push(req.url());
      });
      return page;
    },
    async stop() {
      await browser.close();
      await stopServers();
    },
  };
}
