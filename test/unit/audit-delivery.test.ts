// Pieces of reliable delivery: webhook signatures, retry backoff and gap detection.
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/audit/backoff.ts";
import { findGaps } from "../../src/audit/sequence.ts";
import { signBody, verifyBody } from "../../src/audit/signature.ts";

const SECRET = "whsec-test-secret";
const BODY = '{"events":[{"id":"e1"}]}';
const NOW = 1_800_000_000;

describe("webhook signature", () => {
  it("verifies what it signed", async () => {
    const header = await signBody(SECRET, BODY, NOW);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(await verifyBody(SECRET, BODY, header, NOW + 10)).toBeNull();
  });

  it.each([
    ["a changed body", async () => verifyBody(SECRET, `${BODY} `, await signBody(SECRET, BODY, NOW), NOW), "SIGNATURE_MISMATCH"],
    ["another secret", async () => verifyBody("other", BODY, await signBody(SECRET, BODY, NOW), NOW), "SIGNATURE_MISMATCH"],
    ["a replay after the tolerance", async () => verifyBody(SECRET, BODY, await signBody(SECRET, BODY, NOW), NOW + 301), "SIGNATURE_STALE"],
    ["a moved timestamp", async () => verifyBody(SECRET, BODY, (await signBody(SECRET, BODY, NOW)).replace(`t=${NOW}`, `t=${NOW + 1}`), NOW), "SIGNATURE_MISMATCH"],
    ["no header", async () => verifyBody(SECRET, BODY, null, NOW), "SIGNATURE_MALFORMED"],
    ["garbage", async () => verifyBody(SECRET, BODY, "t=x,v1=zz", NOW), "SIGNATURE_MALFORMED"],
  ])("refuses %s", async (_name, check, code) => {
    expect(await check()).toBe(code);
  });
});

describe("backoff", () => {
  it.each([
    [1, 500, 1_000],
    [2, 1_000, 2_000],
    [5, 8_000, 16_000],
    [20, 150_000, 300_000],
  ])("retry %i waits between %i and %i ms", (attempt, low, high) => {
    const backoff = { baseMs: 1_000, maxMs: 300_000 };
    expect(backoffDelay(attempt, backoff, () => 0)).toBe(low);
    expect(backoffDelay(attempt, backoff, () => 1)).toBe(high);
  });
});

describe("findGaps", () => {
  const ev = (source: string, ...seqs: number[]) => seqs.map((seq) => ({ source, seq }));
  it.each([
    ["contiguous", ev("a", 1, 2, 3), []],
    ["out of order and duplicated (at-least-once delivery)", ev("a", 3, 1, 2, 2, 1), []],
    ["one lost event", ev("a", 1, 2, 4), [{ source: "a", from: 3, to: 3 }]],
    ["a run lost, and the start", ev("a", 3, 7), [{ source: "a", from: 1, to: 2 }, { source: "a", from: 4, to: 6 }]],
    ["per source", [...ev("a", 1, 2), ...ev("b", 2)], [{ source: "b", from: 1, to: 1 }]],
  ])("%s", (_name, events, gaps) => {
    expect(findGaps(events)).toEqual(gaps);
  });
});
