// Starts the real demo origin for worker tests and hands its URL to the Worker's env.
import type { TestProject } from "vitest/node";
import { exportJWK, importJWK } from "jose";
import { startDemoOrigin } from "../../tools/demo-origin.mjs";
import { DEV_SIGNING_KEY } from "../../src/origin/signing-keys.ts";

declare module "vitest" {
  export interface ProvidedContext {
    originUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const { d: _private, ...pub } = DEV_SIGNING_KEY;
  // Check the published half really is the dev key's public key.
  await exportJWK(await importJWK(pub, "ES256"));
  const origin = await startDemoOrigin({ port: 0, jwks: { keys: [pub] }, quiet: true });
  project.provide("originUrl", origin.url);
  return () => origin.close();
}
