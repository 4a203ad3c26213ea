// Faults: the bridge in front of Redis is put into each fault mode in turn. Every
// store call fails within the store timeout with a named code, is tried once (no retry
// storm), and the decision applies the rule file's fail mode (challenge) with the
// failure in `errors`, never a silent allow.
// "Within the timeout" needs no clock: a failure that took longer would carry
// STORE_TIMEOUT instead of its own code. The timeout is the tests' generous one
// (TEST_STORE_TIMEOUT_MS), so a slow machine cannot turn a refusal into a timeout; only
// the hang and the stall, which never finish answering, get a short one, so waiting for
// them costs little.
import { afterEach, describe, expect, inject, it } from "vitest";
import type { FaultMode } from "../../tools/redis-bridge/bridge.mjs";
import { StoreError } from "../../src/store/port.ts";
import { TEST_HANG_TIMEOUT_MS, TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";
import { postReset, upstashGateway } from "./gateway-harness.ts";
import { bridgeStats, uniqueKey, upstashHarness } from "./store-harness.ts";

const bridge = inject("faultRedis");
const suite = bridge === null ? describe.skip : describe;

async function setFault(mode: FaultMode): Promise<void> {
  if (bridge === null) return;
  const res = await fetch(`${bridge.controlUrl}/fault`, {
    method: "POST",
    headers: { authorization: `Bearer ${bridge.token}` },
    body: JSON.stringify({ mode }),
  });
  if (!res.ok) throw new Error(`could not set fault ${mode}: ${await res.text()}`);
}

/** Requests that reached the bridge for `tag`, plus connections reset on arrival ("reset"). */
async function attempts(tag: string): Promise<number> {
  const [forTag, all] = await Promise.all([bridgeStats(tag, bridge), bridgeStats("", bridge)]);
  return forTag.requests + all.resets;
}

afterEach(async () => {
  await setFault("none");
});

/** The store timeout for a fault mode: see the top of this file. */
const timeoutFor = (mode: FaultMode): number => (mode === "hang" || mode === "stall" ? TEST_HANG_TIMEOUT_MS : TEST_STORE_TIMEOUT_MS);

const FAULTS: ReadonlyArray<readonly [FaultMode, string]> = [
  ["refuse", "STORE_UNAVAILABLE"],
  ["reset", "STORE_UNAVAILABLE"],
  ["hang", "STORE_TIMEOUT"],
  // Headers arrive, the body never ends: the one timer must bound the body read too.
  ["stall", "STORE_TIMEOUT"],
  ["error500", "STORE_UNAVAILABLE"],
  ["garbage", "STORE_BAD_RESPONSE"],
];

suite("Upstash adapter faults", () => {
  it.each(FAULTS)("%s: the store call fails with %s, tried once", async (mode, code) => {
    const tag = `fault-${mode}-${crypto.randomUUID()}`;
    const store = upstashHarness.make({ tag, timeoutMs: timeoutFor(mode), ...(bridge === null ? {} : { bridge }) });
    await setFault(mode);
    const before = await attempts(tag);
    const error = await store
      .observe({ now: Date.now(), hits: [{ key: uniqueKey("f"), windowMs: 60_000 }], distinct: [], historyKey: null })
      .then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe(code);
    await setFault("none");
    // "refuse" closes the port, so nothing can be counted there; every other mode was tried once.
    if (mode !== "refuse") expect((await attempts(tag)) - before).toBe(1);
  });

  it.each(FAULTS)("%s: the decision applies the store fail mode (challenge) and names %s", async (mode, code) => {
    if (bridge === null) return;
    const tag = `fault-gw-${mode}-${crypto.randomUUID()}`;
    const { gateway, lines } = await upstashGateway(bridge, tag, { STORE_TIMEOUT_MS: String(timeoutFor(mode)) });
    await setFault(mode);
    const res = await postReset(gateway, { email: `fault-${mode}@example.com` });
    expect(res.status).toBe(403);
    expect(lines.at(-1)).toMatchObject({
      verdict: "challenge",
      action: "challenge",
      // The ladders and the token record were counted on the isolate's local counters.
      errors: [{ dependency: "store", code, failMode: "challenge", fallback: "local-counters" }],
    });
    expect(lines.at(-1)?.reasons.map((r) => r.code)).toContain("FAIL_MODE_APPLIED");
  });

  it("recovers when the fault clears: the next request is allowed again", async () => {
    if (bridge === null) return;
    const { gateway, lines } = await upstashGateway(bridge, `fault-recover-${crypto.randomUUID()}`);
    await setFault("error500");
    await postReset(gateway, { email: "recover@example.com" });
    await setFault("none");
    const res = await postReset(gateway, { email: "recover@example.com" });
    expect(res.status).toBe(202);
    expect(lines.at(-1)).toMatchObject({ verdict: "allow", errors: [] });
  });
});
