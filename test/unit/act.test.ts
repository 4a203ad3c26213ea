// act() answers an allowed reset with the uniform 202 before the origin is asked (the
// forward runs after the response: docs/architecture.md, "Why the reset answers before
// the origin"). The forward reads the origin's answer to its end instead of cancelling
// it: a cancelled body closes the connection, so every reset paid a new handshake to the
// origin (found with npm run bench; BENCHMARKS.md).
import { describe, expect, it } from "vitest";
import { act, UNIFORM_BODY, uniformResponse } from "../../src/reset/act.ts";
import { attemptForward } from "../../src/reset/deliver.ts";
import type { Config } from "../../src/gateway/config.ts";
import { DEV_HMAC_SECRET } from "../../src/gateway/config.ts";
import { buildContext } from "../../src/reset/context.ts";
import { createHasher } from "../../src/context/hmac.ts";
import type { Decision } from "../../src/shared/decision.ts";
import type { Gateway } from "../../src/gateway/gateway.ts";
import { DEV_SIGNING_KEY, loadSigningKeys } from "../../src/origin/signing-keys.ts";
import { bundledRuleset } from "../../src/scoring/ruleset/bundled.ts";

/** An origin body that records whether it was read to its end or cancelled. */
function trackedBody(chunks: readonly string[], failAfter: number | null) {
  const state = { read: 0, finished: false, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.read === failAfter) {
        controller.error(new Error("origin went away"));
        return;
      }
      const chunk = chunks[state.read];
      if (chunk === undefined) {
        state.finished = true;
        controller.close();
        return;
      }
      state.read++;
      controller.enqueue(new TextEncoder().encode(chunk));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

async function setup(body: ReadableStream<Uint8Array>) {
  const calls = { n: 0 };
  const ruleset = bundledRuleset();
  const route = ruleset.spec.routes[0];
  if (route === undefined) throw new Error("the shipped rules define no route");
  const request = new Request("https://gw.test/password/reset", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": "203.0.113.7" },
    body: JSON.stringify({ email: "a@example.com" }),
  });
  const ctx = await buildContext(request.clone(), route, {
    hasher: await createHasher(DEV_HMAC_SECRET),
    now: 0,
    trustedIpHeader: null,
    bodyLimit: 8192,
    userAgentLimit: 512,
    geo: () => null,
  });
  const config: Config = {
    development: true,
    originUrl: new URL("http://origin.test"),
    hmacSecret: DEV_HMAC_SECRET,
    signingKeysJson: "[]",
    trustedIpHeader: null,
        trustedProxyHops: 1,
    store: "durable-object",
    storeShards: 1,
    storeTimeoutMs: null,
    resetResponseFloorMs: 0,
    upstash: null,
    captcha: null,
  };
  // act() uses config, ruleset, keys, fetcher and now; the store, hasher, log and ids
  // belong to other stages.
  const gateway = {
    config,
    ruleset,
    keys: await loadSigningKeys(JSON.stringify([DEV_SIGNING_KEY])),
    fetcher: async () => {
      calls.n++;
      return new Response(body, { status: 200 });
    },
    now: () => 0,
  } as unknown as Gateway;
  const decision: Decision = {
    id: "d-1",
    verdict: "allow",
    tier: "low",
    score: 0,
    channel: "email_link",
    channels: ["email_link"],
    reasons: [],
    mode: "live",
    errors: [],
    rulesetVersion: ruleset.version,
  };
  return { request, ctx, gateway, decision, calls };
}

describe("act: an allowed reset on a uniform-response route", () => {
  it("answers the uniform 202 without asking the origin, and hands the forward on", async () => {
    const { stream } = trackedBody([], null);
    const { request, ctx, gateway, decision, calls } = await setup(stream);
    const result = await act(request, ctx, decision, gateway);
    expect(result.response.status).toBe(202);
    expect(result.action).toBe("forwarded");
    expect(calls.n).toBe(0);
    expect(result.origin).toBeNull();
    expect(result.job?.decision.id).toBe("d-1");
  });

  it("gives every uniform 202 Response.json's body and headers, its own copy (a cookie set on one is not on the next)", async () => {
    const first = uniformResponse();
    const reference = Response.json(UNIFORM_BODY, { status: 202, headers: { "cache-control": "no-store" } });
    expect([...first.headers]).toEqual([...reference.headers]);
    expect(await first.text()).toBe(await reference.text());
    first.headers.append("set-cookie", "rg_device=abc");
    const next = uniformResponse();
    expect(next.headers.get("set-cookie")).toBeNull();
    expect([...next.headers.keys()].sort()).toEqual(["cache-control", "content-type"]);
  });
});

describe("the forward after the response: the origin's body", () => {
  it.each([
    ["a complete body is read to its end, never cancelled", ["{", '"ok":', "true}"], null, true],
    ["an empty body is read to its end", [], null, true],
    ["an origin failing mid-body is an answer all the same", ["{", "never"], 1, false],
  ])("%s", async (_name, chunks, failAfter, finished) => {
    const { stream, state } = trackedBody(chunks, failAfter);
    const { request, ctx, gateway, decision, calls } = await setup(stream);
    const result = await act(request, ctx, decision, gateway);
    if (result.job === null) throw new Error("no forward job");
    const origin = await attemptForward(result.job, gateway);
    expect(calls.n).toBe(1);
    expect(origin.ok && origin.response.status).toBe(200);
    expect(state.finished).toBe(finished);
    expect(state.cancelled).toBe(false);
  });
});
