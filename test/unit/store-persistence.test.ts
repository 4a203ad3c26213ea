// The embedded Durable Object store keeps its state across restarts of the local
// runtime, as `npm start` (wrangler dev, state under .wrangler/state) restarts it: ten
// resets for ten accounts from one IP trip DISTINCT_ACCOUNTS_PER_IP (threshold 10)
// even when the runtime was restarted after the fifth (stopped after the write-behind flush).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_dev } from "wrangler";
import { afterAll, describe, expect, it } from "vitest";
import { startDemoOrigin } from "../../tools/demo-origin.mjs";
import { DEV_SIGNING_KEY } from "../../src/origin/signing-keys.ts";
import { TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";

const dir = mkdtempSync(join(tmpdir(), "riskgate-persist-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Start the Worker on the persisted state, send resets for `accounts`, stop it. */
async function session(originUrl: string, accounts: string[]): Promise<void> {
  const worker = await unstable_dev("src/index.ts", {
    config: "wrangler.toml",
    persistTo: dir,
    ip: "127.0.0.1",
    port: 0,
    vars: { RISKGATE_ENV: "development", ORIGIN_URL: originUrl, STORE: "durable-object", STORE_TIMEOUT_MS: String(TEST_STORE_TIMEOUT_MS) },
    logLevel: "none",
    experimental: { disableExperimentalWarning: true, testMode: true },
  });
  try {
    for (const email of accounts) {
      const res = await worker.fetch("/password/reset", {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": `Mozilla/5.0 Chrome/130 ${email}`, "cf-connecting-ip": "192.0.2.44" },
        body: JSON.stringify({ email }),
      });
      expect(res.status).toBe(202);
    }
    // The store keeps counters in memory and flushes them within FLUSH_EVERY_MS (1 s,
    // src/store/durable-object.ts); stopping sooner may lose that last second, as
    // docs/store.md states. Wait well past it (a backstop for a loaded machine's alarms),
    // so the test checks what survives a restart, not how fast the alarm fires.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  } finally {
    await worker.stop();
  }
}

describe("Durable Object store persistence", () => {
  // Two starts of wrangler dev: half a minute on a quiet machine, two on a busy one. A backstop, not a speed check.
  it("keeps counts across a restart of the local runtime", { timeout: 600_000 }, async () => {
    const { d: _private, ...pub } = DEV_SIGNING_KEY;
    const origin = await startDemoOrigin({ port: 0, jwks: { keys: [pub] }, quiet: true });
    try {
      const reasons = () =>
        origin.received.filter((r) => r.accepted).map((r) => (r.claims as { reasons: string[] }).reasons);
      const accounts = Array.from({ length: 10 }, (_, i) => `persist-${i}@example.com`);
      await session(origin.url, accounts.slice(0, 5));
      expect(reasons().at(-1)).not.toContain("DISTINCT_ACCOUNTS_PER_IP"); // 5 of 10
      await session(origin.url, accounts.slice(5));
      expect(reasons()).toHaveLength(10);
      expect(reasons().at(-2)).not.toContain("DISTINCT_ACCOUNTS_PER_IP"); // 9 of 10
      expect(reasons().at(-1)).toContain("DISTINCT_ACCOUNTS_PER_IP"); // 10: only if the first 5 survived
    } finally {
      await origin.close();
    }
  });
});
