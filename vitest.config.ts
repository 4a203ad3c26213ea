import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_WEBHOOK_SECRET } from "./test/support/constants.ts";

// Two layers (STYLE.md #9): `unit` calls functions in Node; `worker` goes through the
// Worker's fetch inside workerd, against the real Durable Object store, a real demo
// origin, a webhook receiver and Upstash-REST bridges in front of a real redis-server,
// all started by test/support/global-setup.ts. A third, `browser`, runs in Node and
// drives real headless Chromium against `wrangler dev` (the dashboard).
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
              },
              queueProducers: { AUDIT_QUEUE: { queueName: "riskgate-audit" } },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["./test/support/global-setup.ts"],
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          // Starting wrangler dev (build included) takes seconds, not milliseconds.
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
