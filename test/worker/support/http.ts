// Driving an app built around a given gateway, as the platform would.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createApp } from "../../../src/app.ts";
import type { Gateway } from "../../../src/gateway/gateway.ts";

export const GATEWAY = "https://gateway.test";
export const BROWSER_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

/** Fetch through the app and wait for its waitUntil work (the audit record) to finish. */
export async function call(gateway: Gateway, path: string, init: RequestInit = {}): Promise<Response> {
  const app = createApp(async () => gateway);
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${GATEWAY}${path}`, init), env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A reset request with a JSON body. */
export function reset(gateway: Gateway, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return call(gateway, "/password/reset", {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": BROWSER_UA, "cf-connecting-ip": "203.0.113.7", ...headers },
    body: JSON.stringify(body),
  });
}

/** The audit hub of the test environment. */
export function hub() {
  return env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName("hub"));
}

/** The webhook receiver's control API (test/support/webhook-receiver.ts). */
export const receiver = {
  url: () => new URL(env.AUDIT_WEBHOOK_URL ?? "").origin,
  async mode(mode: "ok" | "fail" | "hang") {
    await (await fetch(`${receiver.url()}/__control/mode?m=${mode}`, { method: "POST" })).body?.cancel();
  },
  async received(): Promise<{ mode: string; body: string; batch: string | null; signatureError: string | null }[]> {
    return (await fetch(`${receiver.url()}/__control/received`)).json();
  },
};
