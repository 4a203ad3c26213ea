// The observe script decides rate-limit steps with @upstash/ratelimit's sliding window,
// on the same keys. This differential test runs the library's limiter and the adapter
// side by side on one Redis (through the bridge), at the same instants, and requires the
// same answer every time: success, remaining and reset. A drift in either (the script's
// arithmetic, the key layout, a library upgrade) fails here.
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { rateLimitPrefix } from "../../src/store/ephemeral.ts";
import type { RateLimitCheck } from "../../src/store/port.ts";
import { alignedFuture, uniqueKey, upstashHarness } from "./store-harness.ts";

const bridge = inject("redis");
const suite = bridge === null ? describe.skip : describe;
const SEC = 1000;

afterEach(() => {
  vi.useRealTimers();
});

/** Instants (ms after an aligned start) at which both limiters are asked, per case. */
const CASES: ReadonlyArray<{ name: string; limit: number; windowMs: number; offsets: number[] }> = [
  // A burst inside one window: allowed up to the limit, then refused.
  { name: "burst in one window", limit: 3, windowMs: 60 * SEC, offsets: [0, 1, 2, 3, 4, 5] },
  // Across the boundary the previous window still weighs, less and less.
  { name: "weighted previous window", limit: 4, windowMs: 10 * SEC, offsets: [0, 1, 2, 3, 4, 10_500, 12_000, 15_000, 18_000, 19_999] },
  // Two windows later the old counts no longer matter.
  { name: "forgets after two windows", limit: 2, windowMs: 5 * SEC, offsets: [0, 1, 2, 10_001, 10_002, 10_003] },
];

suite("rate limits: the observe script agrees with @upstash/ratelimit", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      if (bridge === null) throw new Error("unreachable");
      const tag = `parity-${crypto.randomUUID()}`;
      const store = upstashHarness.make({ tag });
      const redis = new Redis({ url: `${bridge.url}/t/${tag}`, token: bridge.token, enableTelemetry: false });
      const check: RateLimitCheck = { key: uniqueKey("ours"), limit: c.limit, windowMs: c.windowMs, cache: false };
      const theirs = new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(c.limit, `${c.windowMs} ms`),
        prefix: rateLimitPrefix(check),
        ephemeralCache: false,
        timeout: 0,
        analytics: false,
      });
      const theirKey = uniqueKey("theirs");
      const start = alignedFuture();
      const ours: unknown[] = [];
      const library: unknown[] = [];
      for (const offset of c.offsets) {
        const now = start + offset;
        // The library reads Date.now(); the adapter gets `now` explicitly.
        vi.useFakeTimers({ toFake: ["Date"], now });
        const [{ limits }, lib] = await Promise.all([
          store.observe({ now, hits: [], distinct: [], historyKey: null, limits: [check] }),
          theirs.limit(theirKey),
        ]);
        ours.push(limits[0]);
        library.push({ success: lib.success, remaining: lib.remaining, reset: lib.reset });
      }
      expect(ours).toEqual(library);
      // Both refused somewhere and allowed somewhere: the cases exercise both answers.
      expect(ours.some((r) => (r as { success: boolean }).success)).toBe(true);
      expect(ours.some((r) => !(r as { success: boolean }).success)).toBe(true);
    });
  }
});
