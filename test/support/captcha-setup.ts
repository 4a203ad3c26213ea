// Worker tests: the local Turnstile stand-in (tools/turnstile-standin/), with one
// production-like site (tokens single-use, 300 s expiry), handed to the Worker's env
// as SITEVERIFY_URL, CAPTCHA_SCRIPT_URL and the Turnstile keys (vitest.config.ts).
import type { TestProject } from "vitest/node";
import { startTurnstileStandin } from "../../tools/turnstile-standin/server.mjs";

/** What a worker test needs to reach the stand-in. */
export interface ProvidedTurnstile {
  readonly url: string;
  readonly siteverifyUrl: string;
  readonly scriptUrl: string;
  readonly siteKey: string;
  readonly secret: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    turnstile: ProvidedTurnstile;
  }
}

/** The stand-in's production-like site. */
export const TEST_SITE = { siteKey: "0x4AAAAAAAriskgate-test-site", secret: "0x4AAAAAAAriskgate-test-secret" } as const;

export default async function setup(project: TestProject) {
  // Hung siteverify calls are cut after 5 s, well after any test's CAPTCHA timeout.
  const standin = await startTurnstileStandin({ sites: [TEST_SITE], hangLimitMs: 5000 });
  project.provide("turnstile", { url: standin.url, siteverifyUrl: standin.siteverifyUrl, scriptUrl: standin.scriptUrl, ...TEST_SITE });
  return () => standin.close();
}
