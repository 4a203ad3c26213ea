import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_WEBHOOK_SECRET } from "./test/support/constants.ts";

// Two layers (STYLE.md #9): `unit` calls functions in Node; `worker` goes through the
// Worker's fetch inside workerd, against the real Durable Object store, a real demo
// origin, a webhook receiver, the Turnstile stand-in and Upstash-REST bridges in front of
// a real redis-server, all started by test/support/global-setup.ts. A third, `browser`,
// runs in Node and drives real headless Chromium against the local runtime (the
// dashboard and the CAPTCHA challenge page).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./test/support/unit-global-setup.ts"],
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
                AUDIT_WEBHOOK_TIMEOUT_MS: "300",
                // The local Turnstile stand-in (test/support/captcha-setup.ts).
                SITEVERIFY_URL: inject("turnstile").siteverifyUrl,
                CAPTCHA_SCRIPT_URL: inject("turnstile").scriptUrl,
                TURNSTILE_SITE_KEY: inject("turnstile").siteKey,
                TURNSTILE_SECRET_KEY: inject("turnstile").secret,
              },
              queueProducers: { AUDIT_QUEUE: { queueName: "riskgate-audit" } },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts", "test/security/**/*.test.ts"],
          exclude: ["test/security/**/*.browser.test.ts"],
          globalSetup: ["./test/support/global-setup.ts", "./test/support/captcha-setup.ts"],
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts", "test/security/**/*.browser.test.ts"],
          environment: "node",
          // Starting wrangler dev (build included) takes seconds, not milliseconds.
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
