import { describe, expect, it } from "vitest";
import { bucketExpiresAt, bucketOf, rateLimitDecision, rateLimitRemaining, slidingCount } from "../../src/store/window.ts";

const W = 60_000;
const T = 1_800_000_000_000 - (1_800_000_000_000 % W); // a bucket start

describe("sliding window arithmetic", () => {
  it.each([
    [T, 5, 0, 5],
    [T, 5, 4, 9], // at the bucket start the previous bucket counts whole
    [T + W / 2, 1, 3, 2], // half-way: floor(3 * 0.5) = 1
    [T + W - 1, 1, 100, 1], // at the very end almost nothing of it is left
  ])("at %i with current %i and previous %i the count is %i", (now, current, previous, expected) => {
    expect(slidingCount(now, W, current, previous)).toBe(expected);
  });

  it("keeps a bucket until it can no longer be the previous one, plus a grace second", () => {
    const b = bucketOf(T, W);
    expect(bucketExpiresAt(b, W)).toBe(T + 2 * W + 1000);
  });

  it.each([
    ["under the limit", T, 2, 0, true],
    ["at the limit: refused, nothing consumed", T, 3, 0, false],
    ["the previous bucket pushes it over", T + W / 2, 1, 4, false],
    ["the previous bucket has faded enough", T + (W * 3) / 4, 1, 4, true],
  ])("rate limit 3/min %s", (_label, now, current, previous, success) => {
    const { consume, result } = rateLimitDecision(now, 3, W, current, previous);
    expect(result.success).toBe(success);
    expect(consume).toBe(success);
    expect(result.reset).toBe(T + W);
    if (!success) expect(result.remaining).toBe(0);
  });

  it("reports what is left after consuming", () => {
    expect(rateLimitDecision(T, 10, W, 3, 0).result.remaining).toBe(6);
  });

  it("gives the same answer as one number (the Durable Object writes it into its answer array)", () => {
    let refused = 0;
    for (const now of [T, T + W / 4, T + W / 2, T + W - 1]) {
      for (let current = 0; current <= 6; current++) {
        for (let previous = 0; previous <= 8; previous++) {
          const { consume, result } = rateLimitDecision(now, 5, W, current, previous);
          const remaining = rateLimitRemaining(now, 5, W, current, previous);
          expect(remaining >= 0).toBe(consume);
          if (consume) expect(remaining).toBe(result.remaining);
          else refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});
