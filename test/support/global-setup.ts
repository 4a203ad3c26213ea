// Starts the real demo origin and a webhook receiver (the SIEM stand-in) for worker
// tests and hands their URLs to the Worker's env.
import type { TestProject } from "vitest/node";
import { exportJWK, importJWK } from "jose";
import { startDemoOrigin } from "../../tools/demo-origin.mjs";
import { DEV_SIGNING_KEY } from "../../src/origin/signing-keys.ts";
import { TEST_WEBHOOK_SECRET } from "./constants.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";

declare module "vitest" {
  export interface ProvidedContext {
    originUrl: string;
    webhookUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const { d: _private, ...pub } = DEV_SIGNING_KEY;
  // Check the published half really is the dev key's public key.
  await exportJWK(await importJWK(pub, "ES256"));
  const origin = await startDemoOrigin({ port: 0, jwks: { keys: [pub] }, quiet: true });
  const receiver = await startWebhookReceiver(TEST_WEBHOOK_SECRET);
  project.provide("originUrl", origin.url);
  project.provide("webhookUrl", receiver.url);
  return async () => {
    await origin.close();
    await receiver.close();
  };
}
