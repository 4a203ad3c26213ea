// Worker tests: starts the real demo origin and a webhook receiver (the SIEM stand-in)
// and hands their URLs to the Worker's env, and
// (when redis-server is available) two Upstash-REST bridges in front of a real Redis:
// `redis` for the contract, round-trip and privacy tests, `faultRedis` whose fault
// modes the fault tests switch (a separate bridge, so a refusing port cannot disturb
// tests running in parallel).
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { exportJWK, importJWK } from "jose";
import { startDemoOrigin } from "../../tools/demo-origin.mjs";
import { startListSourcesStandin } from "../../tools/list-sources-standin.mjs";
import { startBridge } from "../../tools/redis-bridge/bridge.mjs";
import { DEV_SIGNING_KEY } from "../../src/origin/signing-keys.ts";
import { TEST_WEBHOOK_SECRET } from "./constants.ts";
import { testRedis } from "./redis.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";

/** What a worker test needs to reach a bridge. */
export interface ProvidedBridge {
  readonly url: string;
  readonly token: string;
  readonly controlUrl: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    originUrl: string;
    /** A second HTTP server that stands for a host an attacker controls; it must never be reached. */
    attackerUrl: string;
    webhookUrl: string;
    redis: ProvidedBridge | null;
    faultRedis: ProvidedBridge | null;
    redisUnavailable: string;
    /** The live list sources and CrowdSec LAPI stand-in (tools/list-sources-standin.mjs). */
    listSourcesUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const { d: _private, ...pub } = DEV_SIGNING_KEY;
  // Check the published half really is the dev key's public key.
  await exportJWK(await importJWK(pub, "ES256"));
  const origin = await startDemoOrigin({ port: 0, jwks: { keys: [pub] }, quiet: true });
  project.provide("originUrl", origin.url);
  const attacker = await startDemoOrigin({ port: 0, jwks: { keys: [pub] }, quiet: true });
  project.provide("attackerUrl", attacker.url);
  const receiver = await startWebhookReceiver(TEST_WEBHOOK_SECRET);
  project.provide("webhookUrl", receiver.url);
  const listSources = await startListSourcesStandin({ quiet: true });
  project.provide("listSourcesUrl", listSources.url);

  const redis = await testRedis({ shared: true });
  const closers: Array<() => Promise<void>> = [() => origin.close(), () => attacker.close(), () => receiver.close(), () => listSources.close()];
  if (redis.port === null) {
    project.provide("redis", null);
    project.provide("faultRedis", null);
    project.provide("redisUnavailable", redis.reason);
  } else {
    const token = randomBytes(18).toString("base64url");
    const shared = await startBridge({ redisPort: redis.port, token });
    // Hung requests are cut after 5 s at the latest; tests switch the mode back sooner.
    const faults = await startBridge({ redisPort: redis.port, token, hangLimitMs: 5000 });
    const view = (b: typeof shared): ProvidedBridge => ({ url: b.url, token, controlUrl: b.controlUrl });
    project.provide("redis", view(shared));
    project.provide("faultRedis", view(faults));
    project.provide("redisUnavailable", "");
    closers.push(() => faults.close(), () => shared.close(), redis.stop);
  }
  return async () => {
    for (const close of closers) await close();
  };
}
