import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_STORE_TIMEOUT_MS, TEST_WEBHOOK_SECRET } from "./test/support/constants.ts";

// Quiet by default: the Worker writes a JSON line per decision and per audit event, and
// a passing run would bury the one failure under thousands of them. Logs of a failing
// test are still printed with its failure; RISKGATE_TEST_VERBOSE=1 prints every log.
const verbose = process.env.RISKGATE_TEST_VERBOSE === "1";

// Wall-clock limits are a backstop against a hung test, never an assertion: generous, so
// a loaded machine (2 cores, other suites running) does not fail a correct test.
// expect.poll's own default (1 s) is such a limit too.
const timeouts = { testTimeout: 60_000, hookTimeout: 300_000, expect: { poll: { timeout: 30_000 } } };

// Two layers (STYLE.md #9): `unit` calls functions in Node; `worker` goes through the
// Worker's fetch inside workerd, against the real Durable Object store, a real demo
// origin, a webhook receiver, the Turnstile stand-in and Upstash-REST bridges in front of
// a real redis-server, all started by test/support/global-setup.ts. A third, `browser`,
// runs in Node and drives real headless Chromium against the local runtime (the
// dashboard and the CAPTCHA challenge page).
export default defineConfig({
  test: {
    silent: verbose ? false : "passed-only",
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./test/support/unit-global-setup.ts"],
          ...timeouts,
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                RISKGATE_ENV: "development",
                ORIGIN_URL: inject("originUrl"),
                // Every worker test runs with the SIEM webhook and the audit queue on,
                // so the whole audit path is exercised, not a quieter configuration.
                AUDIT_WEBHOOK_URL: `${inject("webhookUrl")}/siem`,
                AUDIT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
                // Long enough for an answering receiver on a loaded machine; the hang test
                // waits this long per attempt.
                AUDIT_WEBHOOK_TIMEOUT_MS: "2000",
                // The shipped 150 ms store timeout is for production; here a slow machine
                // must not turn a healthy store call into STORE_TIMEOUT (docs/configuration.md).
                STORE_TIMEOUT_MS: String(TEST_STORE_TIMEOUT_MS),
                // No answer time floor here: tests send hundreds of resets one after another.
                // The timing test (test/security/timing.browser.test.ts) runs with the default.
                RESET_RESPONSE_FLOOR_MS: "0",
                // The local Turnstile stand-in (test/support/captcha-setup.ts).
                SITEVERIFY_URL: inject("turnstile").siteverifyUrl,
                CAPTCHA_SCRIPT_URL: inject("turnstile").scriptUrl,
                TURNSTILE_SITE_KEY: inject("turnstile").siteKey,
                TURNSTILE_SECRET_KEY: inject("turnstile").secret,
              },
              // RESET_QUEUE: forwards the origin failed are retried through it (its consumer is
              // the Worker's queue() handler), as in a deployment that binds one.
              queueProducers: { AUDIT_QUEUE: { queueName: "riskgate-audit" }, RESET_QUEUE: { queueName: "riskgate-resets" } },
              queueConsumers: { "riskgate-resets": { maxBatchTimeout: 1, maxRetries: 10 } },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts", "test/security/**/*.test.ts"],
          exclude: ["test/security/**/*.browser.test.ts"],
          globalSetup: ["./test/support/global-setup.ts", "./test/support/captcha-setup.ts"],
          ...timeouts,
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts", "test/security/**/*.browser.test.ts"],
          environment: "node",
          // Starting wrangler dev (build included) takes seconds, not milliseconds, and a
          // page's first request waits for it: over 30 s on a busy machine.
          ...timeouts,
          testTimeout: 180_000,
        },
      },
    ],
  },
});
