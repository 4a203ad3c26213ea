// A gateway built as in production (createGateway) but with a chosen store and a
// capturing log sink, driven through the real Hono app inside workerd.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createApp } from "../../src/app.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import type { WorkerEnv as Env } from "../../src/gateway/env.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import type { ProvidedBridge } from "../support/global-setup.ts";

export const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

/** A gateway plus the decision log lines it wrote. */
export interface TestGateway {
  readonly gateway: Gateway;
  readonly lines: DecisionLogLine[];
}

/** The gateway for `overrides` on top of the test env, logging into `lines`. */
export async function testGateway(overrides: Partial<Env>): Promise<TestGateway> {
  const lines: DecisionLogLine[] = [];
  const built = await createGateway({ ...env, ...overrides });
  return { gateway: { ...built, log: (line) => lines.push(line) }, lines };
}

/** A gateway on the Upstash store through `bridge`, its round trips counted under `tag`. */
export function upstashGateway(bridge: ProvidedBridge, tag: string, overrides: Partial<Env> = {}): Promise<TestGateway> {
  return testGateway({
    ...overrides,
    STORE: "upstash",
    UPSTASH_REDIS_REST_URL: `${bridge.url}/t/${tag}`,
    UPSTASH_REDIS_REST_TOKEN: bridge.token,
  });
}

/** POST a reset through the app and wait for everything it scheduled (the log line). */
export async function postReset(
  gateway: Gateway,
  body: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const app = createApp(async () => gateway);
  const ctx = createExecutionContext();
  const request = new Request("https://gateway.test/password/reset", {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": BROWSER_UA, "cf-connecting-ip": "203.0.113.7", ...headers },
    body: JSON.stringify(body),
  });
  const response = await app.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}
