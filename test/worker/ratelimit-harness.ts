// Floods through the real gateway inside workerd, on either store adapter, with the
// clock under the test's control: the gateway's `now` and (for @upstash/ratelimit,
// which reads it) `Date`. Each flood starts at its own day in the future, aligned to
// every window, so floods never share a window with each other or with other tests.
import { inject, vi } from "vitest";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import type { AuditEvent, RateLimitRefusedData } from "../../src/audit/events.ts";
import { RefusalTally } from "../../src/reset/refusals.ts";
import type { WorkerEnv } from "../../src/gateway/env.ts";
import type { Gateway } from "../../src/gateway/gateway.ts";
import type { Store } from "../../src/store/port.ts";
import type { CompiledRuleset } from "../../src/scoring/ruleset/compile.ts";
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
  /** The decision log line; null when the screen stage refused the request (no decision). */
  readonly line: DecisionLogLine | null;
  /** The screen stage's `ratelimit.refused` event for this response, or null. */
  readonly refused: RateLimitRefusedData | null;
  /**
   * Reason codes with their rule ids, e.g. `RATE_LIMIT_CHALLENGE rate_limits.ip`. For a
   * screened request, the code its `ratelimit.refused` event stands for (`PENALTY_BOX`
   * or `RATE_LIMIT_EXCEEDED`), as the pipeline would have given it.
   */
  readonly reasons: readonly string[];
}

/** The decision log line of a scored request (fails the test for a screened one). */
export function lineOf(sent: Sent): DecisionLogLine {
  if (sent.line === null) throw new Error(`request was refused by the screen stage (status ${sent.status}), no decision line`);
  return sent.line;
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

/** More ways to shape a flood's gateway. */
export interface FloodOptions {
  /** Env overrides (e.g. another CAPTCHA secret). */
  readonly env?: Partial<WorkerEnv>;
  /** Wrap the gateway's store adapter (e.g. to kill it mid-traffic). */
  readonly store?: (real: Store) => Store;
}

/**
 * Start a flood on `kind`; `ruleset` replaces the bundled rules (tests of smaller thresholds);
 * with `events`, the gateway's audit events are captured there instead of sent to the hub.
 */
export async function flood(kind: StoreKind, ruleset?: CompiledRuleset, events?: AuditEvent[], options: FloodOptions = {}): Promise<Flood> {
  const overrides = options.env ?? {};
  const built =
    kind === "upstash" && redis !== null
      ? await upstashGateway(redis, `flood-${crypto.randomUUID()}`, overrides)
      : await testGateway(overrides);
  const start = alignedFuture() + (1 + Math.floor(Math.random() * 3000)) * DAY;
  let clock = start;
  vi.useFakeTimers({ toFake: ["Date"], now: clock });
  const set = (ms: number) => {
    clock = ms;
    vi.setSystemTime(ms);
  };
  // The screen's refusals are reported at once (the window's aggregation is unit-tested),
  // so each refused request's event is there when the request's waitUntil work is done.
  const refusals = new RefusalTally({ newId: built.gateway.newId, windowMs: 0 });
  const store = options.store === undefined ? built.gateway.store : options.store(built.gateway.store);
  const timed: Gateway = { ...built.gateway, store, refusals, now: () => clock, ...(ruleset === undefined ? {} : { ruleset }) };
  const captured = events ?? [];
  const gateway = capturing(timed, captured);
  return {
    gateway,
    start,
    now: () => clock,
    at: (offsetMs) => set(start + offsetMs),
    advance: (ms) => set(clock + ms),
    async post(body, sender) {
      const headers = { "cf-connecting-ip": sender.ip, "user-agent": sender.ua ?? BROWSER_UA, ...sender.headers };
      const before = built.lines.length;
      const res = await postReset(gateway, body, headers);
      const line = built.lines.length > before ? (built.lines.at(-1) ?? null) : null;
      const text = await res.text();
      const retry = res.headers.get("retry-after");
      const parsed = text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : { html: text };
      const refused = line === null ? refusedEvent(captured, parsed.decision) : null;
      // Only a request refused as bad input (a typed 400/413/415...) has neither.
      const decided = res.status < 400 || res.status === 403 || res.status === 429;
      if (decided && line === null && refused === null) throw new Error(`no decision log line and no refusal for a ${res.status}`);
      return {
        status: res.status,
        retryAfter: retry === null ? null : Number(retry),
        body: parsed,
        line,
        refused,
        reasons: line !== null ? line.reasons.map((r) => `${r.code} ${r.rule}`) : refusedReasons(refused),
        headers: res.headers,
      };
    },
  };
}

/** The `ratelimit.refused` event a screened response's decision id points to. */
function refusedEvent(events: readonly AuditEvent[], decision: unknown): RateLimitRefusedData | null {
  const event = events.find((e) => e.type === "ratelimit.refused" && e.decision_id === decision);
  return event?.type === "ratelimit.refused" ? event.data : null;
}

function refusedReasons(refused: RateLimitRefusedData | null): string[] {
  if (refused === null) return [];
  return [`${refused.step === "penalty" ? "PENALTY_BOX" : "RATE_LIMIT_EXCEEDED"} rate_limits.${refused.ladder}`];
}
