// Floods through the real gateway inside workerd, on either store adapter, with the
// clock under the test's control: the gateway's `now` and (for @upstash/ratelimit,
// which reads it) `Date`. Each flood starts at its own day in the future, aligned to
// every window, so floods never share a window with each other or with other tests.
import { inject, vi } from "vitest";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import type { AuditEvent } from "../../src/audit/events.ts";
import type { Gateway } from "../../src/gateway.ts";
import type { CompiledRuleset } from "../../src/rules/compile.ts";
import { BROWSER_UA, postReset, testGateway, upstashGateway } from "./gateway-harness.ts";
import { alignedFuture } from "./store-harness.ts";
import { capturing } from "./support/capture.ts";

export type StoreKind = "durable-object" | "upstash";

const redis = inject("redis");
const DAY = 86_400_000;

/** Adapters these floods run on; Upstash only when the run has a Redis bridge. */
export const STORE_KINDS: readonly StoreKind[] = redis === null ? ["durable-object"] : ["durable-object", "upstash"];

/** One response, with the decision log line it produced. */
export interface Sent {
  readonly status: number;
  readonly retryAfter: number | null;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
  readonly line: DecisionLogLine;
  /** Reason codes with their rule ids, e.g. `RATE_LIMIT_CHALLENGE rate_limits.ip`. */
  readonly reasons: readonly string[];
}

/** Who sends a request. */
export interface Sender {
  readonly ip: string;
  readonly ua?: string;
  readonly headers?: Record<string, string>;
}

/** A gateway on a chosen store with a controlled clock. */
export interface Flood {
  readonly gateway: Gateway;
  readonly start: number;
  now(): number;
  /** Move the clock to `start + offsetMs`. */
  at(offsetMs: number): void;
  /** Move the clock forward. */
  advance(ms: number): void;
  post(body: Record<string, string>, sender: Sender): Promise<Sent>;
}

/** A browser UA no other request uses: a device of its own for the device ladder. */
export function uniqueUa(label: string): string {
  return `${BROWSER_UA} rg-${label}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * A random IPv6 address in its own random /64 of 2001:db8::/32 (documentation space).
 * Penalty boxes are not bucketed by time, so addresses must never repeat across tests
 * sharing a store; 64 random bits make a collision negligible.
 */
export function randomIp(): string {
  const group = () => Math.floor(Math.random() * 0x10000).toString(16);
  // Written the way the context normalises it (ipaddr.js), so tests can compare.
  return `2001:db8:${group()}:${group()}:0:0:0:${group()}`;
}

/** A random /24 of 198.18.0.0/15 (benchmarking space), e.g. `198.19.37`; only the subnet test uses IPv4. */
export function randomIpv4Subnet(): string {
  return `198.${18 + Math.floor(Math.random() * 2)}.${Math.floor(Math.random() * 256)}`;
}

/**
 * Start a flood on `kind`; `ruleset` replaces the bundled rules (tests of smaller thresholds);
 * with `events`, the gateway's audit events are captured there instead of sent to the hub.
 */
export async function flood(kind: StoreKind, ruleset?: CompiledRuleset, events?: AuditEvent[]): Promise<Flood> {
  const built =
    kind === "upstash" && redis !== null ? await upstashGateway(redis, `flood-${crypto.randomUUID()}`) : await testGateway({});
  const start = alignedFuture() + (1 + Math.floor(Math.random() * 3000)) * DAY;
  let clock = start;
  vi.useFakeTimers({ toFake: ["Date"], now: clock });
  const set = (ms: number) => {
    clock = ms;
    vi.setSystemTime(ms);
  };
  const timed: Gateway = { ...built.gateway, now: () => clock, ...(ruleset === undefined ? {} : { ruleset }) };
  const gateway = events === undefined ? timed : capturing(timed, events);
  return {
    gateway,
    start,
    now: () => clock,
    at: (offsetMs) => set(start + offsetMs),
    advance: (ms) => set(clock + ms),
    async post(body, sender) {
      const headers = { "cf-connecting-ip": sender.ip, "user-agent": sender.ua ?? BROWSER_UA, ...sender.headers };
      const res = await postReset(gateway, body, headers);
      const line = built.lines.at(-1);
      if (line === undefined) throw new Error("no decision log line");
      const text = await res.text();
      const retry = res.headers.get("retry-after");
      return {
        status: res.status,
        retryAfter: retry === null ? null : Number(retry),
        body: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : { html: text },
        headers: res.headers,
        line,
        reasons: line.reasons.map((r) => `${r.code} ${r.rule}`),
      };
    },
  };
}
