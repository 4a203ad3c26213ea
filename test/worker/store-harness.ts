// Builds each store adapter the way the gateway does, against real backends: the
// Durable Object binding inside workerd, and Upstash through the REST bridge in front
// of a real redis-server (started by test/support/global-setup.ts).
import { env } from "cloudflare:test";
import { inject } from "vitest";
import type { BridgeStats } from "../../tools/redis-bridge/bridge.mjs";
import { TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";
import type { ProvidedBridge } from "../support/global-setup.ts";
import { DurableObjectStore, type StoreNamespace } from "../../src/store/durable-object-store.ts";
import type { Store } from "../../src/store/port.ts";
import { UpstashStore } from "../../src/store/upstash.ts";

/** Options every adapter accepts in tests. */
export interface MakeOptions {
  readonly timeoutMs?: number;
  /** How long a call may still settle once its timeout's timer ran (the adapter's default otherwise). */
  readonly graceMs?: number;
  /** Durable Object only. */
  readonly shards?: number;
  readonly namespace?: StoreNamespace;
  /** Upstash only: a bridge tag, so this test's round trips can be counted alone. */
  readonly tag?: string;
  readonly bridge?: ProvidedBridge;
}

/** One adapter under test. */
export interface Harness {
  readonly name: "durable-object" | "upstash";
  /** Empty when the adapter can run; otherwise why it is skipped. */
  readonly unavailable: string;
  make(options?: MakeOptions): Store;
}

const redis = inject("redis");

export const durableObjectHarness: Harness = {
  name: "durable-object",
  unavailable: "",
  make: ({ timeoutMs = TEST_STORE_TIMEOUT_MS, graceMs, shards = 1, namespace = env.RISKGATE_STORE } = {}) =>
    new DurableObjectStore({ namespace, shards, timeoutMs, ...(graceMs === undefined ? {} : { graceMs }) }),
};

export const upstashHarness: Harness = {
  name: "upstash",
  unavailable: redis === null ? inject("redisUnavailable") : "",
  make: ({ timeoutMs = TEST_STORE_TIMEOUT_MS, graceMs, tag = "contract", bridge = redis ?? undefined } = {}) => {
    if (bridge === undefined) throw new Error("no Redis bridge in this run");
    return new UpstashStore({ url: `${bridge.url}/t/${tag}`, token: bridge.token, timeoutMs, ...(graceMs === undefined ? {} : { graceMs }) });
  },
};

/** Both adapters: the contract suite runs against each. */
export const harnesses: readonly Harness[] = [durableObjectHarness, upstashHarness];

/** A key no other test uses. */
export function uniqueKey(label: string): string {
  return `${label}:${crypto.randomUUID()}`;
}

/** Tomorrow 00:00 UTC: aligned to every window that divides a day, and in the future, so
 * absolute expiries computed from it have not passed on the real Redis clock. */
export function alignedFuture(): number {
  const day = 86_400_000;
  return (Math.floor(Date.now() / day) + 1) * day;
}

/** Bridge statistics for a tag (round trips, commands). */
export async function bridgeStats(tag: string, bridge = redis): Promise<BridgeStats> {
  if (bridge === null || bridge === undefined) throw new Error("no Redis bridge in this run");
  const res = await fetch(`${bridge.controlUrl}/stats?tag=${tag}`, { headers: { authorization: `Bearer ${bridge.token}` } });
  return (await res.json()) as BridgeStats;
}
