// Completion rates (issue #16.4): the probe read and the outcome adds, pure.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  COMPLETION_WINDOW_MS,
  completionAdds,
  completionFacts,
  completionKeys,
  PROBE_MEMBER,
  planCompletion,
  SITE_DONE_KEY,
  SITE_SENT_KEY,
  SURPRISE_MAX,
  SURPRISE_MIN_REST,
  surprise,
} from "../../src/scoring/signals/completion.ts";

describe("completion rates", () => {
  it("probes the country and network sets, and subtracts the probe from each count", () => {
    const plan = planCompletion("NL", 1136);
    const cc = completionKeys("cc", "NL");
    const asn = completionKeys("asn", 1136);
    expect(plan.distinct.map((d) => d.key)).toEqual([cc.sent, cc.done, cc.anySent, cc.anyDone, asn.sent, asn.done, asn.anySent, asn.anyDone, SITE_DONE_KEY, SITE_SENT_KEY]);
    expect(new Set(plan.distinct.map((d) => d.key)).size).toBe(10);
    expect(plan.distinct.every((d) => d.member === PROBE_MEMBER && d.windowMs === COMPLETION_WINDOW_MS)).toBe(true);
    expect(completionFacts(plan, [41, 3, 101, 61, 11, 9, 21, 2, 501, 1001])).toEqual({
      country_sent: 40, country_completed: 2, country_rate: 0.05, asn_sent: 10, asn_completed: 8, asn_rate: 0.8,
      country_any_sent: 100, country_any_completed: 60, country_any_rate: 0.6, asn_any_sent: 20, asn_any_completed: 1, asn_any_rate: 0.05,
      site_any_completed: 500, site_any_sent: 1000,
      // The country finishes as often as the rest of the site: nothing to see. The network's
      // 1 of 20 against the rest's 499 of 980 is about one in 10^4.5.
      country_any_surprise: 0, asn_any_surprise: surprise(20, 1, 1000, 500),
    });
    expect(surprise(20, 1, 1000, 500)).toBeGreaterThan(4);
  });

  it("no sends is no evidence (rate 1.0); unknown country or network are not probed; a failed store reads as nothing", () => {
    const none = planCompletion("", 0);
    // The site's finished resets are read whatever the request's country and network.
    expect(none.distinct.map((d) => d.key)).toEqual([SITE_DONE_KEY, SITE_SENT_KEY]);
    expect(completionFacts(none, [])).toMatchObject({ country_sent: 0, country_rate: 1, asn_rate: 1, country_any_rate: 1, asn_any_rate: 1, site_any_completed: 0 });
    expect(completionFacts(none, [8]).site_any_completed).toBe(7);
    const asnOnly = planCompletion("", 3320);
    expect(completionFacts(asnOnly, [21, 1, 31, 1, 4, 1])).toMatchObject({ country_sent: 0, country_any_sent: 0, asn_sent: 20, asn_completed: 0, asn_rate: 0, asn_any_sent: 30, asn_any_rate: 0, site_any_completed: 3 });
    expect(completionFacts(planCompletion("DE", 3320), [])).toMatchObject({ country_sent: 0, country_rate: 1, asn_sent: 0, asn_rate: 1, asn_any_sent: 0, asn_any_rate: 1 });
    // More completions than sends (a send not reported) never reads above 1.
    expect(completionFacts(planCompletion("DE", 0), [3, 5, 3, 5, 1]).country_rate).toBe(1);
    expect(completionFacts(planCompletion("DE", 0), [3, 5, 3, 5, 1]).country_any_rate).toBe(1);
  });

  it("counts every channel's sends and completions in the any-channel sets, SMS and voice also in their own, by decision", () => {
    const base = { country: "NL", asn: 1136, decisionKey: "d".repeat(22) };
    const cc = completionKeys("cc", "NL");
    const asn = completionKeys("asn", 1136);
    const at = (key: string) => ({ key, member: "d".repeat(22), windowMs: COMPLETION_WINDOW_MS });
    // Every send also counts for the whole site: the rate a country or network is compared with.
    expect(completionAdds({ ...base, event: "sent", channel: "sms_otp" })).toEqual([at(cc.sent), at(cc.anySent), at(asn.sent), at(asn.anySent), at(SITE_SENT_KEY)]);
    // A finished reset also counts for the whole site (the origin does report completions).
    expect(completionAdds({ ...base, event: "completed", channel: "voice_otp" }).map((a) => a.key)).toEqual([cc.done, cc.anyDone, asn.done, asn.anyDone, SITE_DONE_KEY]);
    expect(completionAdds({ ...base, event: "verified", channel: "sms_otp" })).toHaveLength(5);
    // Email (or a channel the origin did not name) counts towards the any-channel rates only.
    expect(completionAdds({ ...base, event: "sent", channel: "email_otp" })).toEqual([at(cc.anySent), at(asn.anySent), at(SITE_SENT_KEY)]);
    expect(completionAdds({ ...base, event: "completed", channel: null })).toEqual([at(cc.anyDone), at(asn.anyDone), at(SITE_DONE_KEY)]);
    for (const event of ["abandoned", "fraud_reported"] as const) {
      expect(completionAdds({ ...base, event, channel: "sms_otp" })).toEqual([]);
      expect(completionAdds({ ...base, event, channel: "email_link" })).toEqual([]);
    }
    expect(completionAdds({ ...base, country: null, asn: null, event: "sent", channel: "sms_otp" })).toEqual([at(SITE_SENT_KEY)]);
    expect(completionAdds({ ...base, country: "", asn: 0, event: "sent", channel: "email_link" })).toEqual([at(SITE_SENT_KEY)]);
    expect(completionAdds({ ...base, country: null, asn: null, event: "completed", channel: "email_link" })).toEqual([at(SITE_DONE_KEY)]);
  });
});

/** P(X <= k) for X ~ Binomial(n, p), summed directly (exact enough for small n). */
function tail(n: number, k: number, p: number): number {
  let sum = 0;
  let choose = 1;
  for (let i = 0; i <= k; i++) {
    sum += choose * p ** i * (1 - p) ** (n - i);
    choose = (choose * (n - i)) / (i + 1);
  }
  return sum;
}

describe("surprise: how unlikely a scope's finished resets are against the rest of the site", () => {
  it("is -log10 of the binomial tail at the rest of the site's rate", () => {
    // None of 10 finished while the rest finishes 300 of 490: 0.388^10.
    expect(surprise(10, 0, 500, 300)).toBeCloseTo(-Math.log10((1 - 300 / 490) ** 10), 9);
    // The rules' examples (rules/tests/velocity.yaml).
    expect(surprise(12, 0, 512, 340)).toBeCloseTo(5.938, 3);
    expect(surprise(12, 0, 300, 100)).toBeCloseTo(2.223, 3);
    expect(surprise(9, 0, 500, 300)).toBeCloseTo(3.69, 3);
    expect(surprise(10, 1, 500, 300)).toBeCloseTo(2.87, 3);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), (n, k0, p) => {
        const k = Math.min(k0, n);
        const rest = 1000;
        const got = surprise(n, k, n + rest, k + Math.round(p * rest));
        const q = Math.round(p * rest) / rest;
        const want = k / n >= q ? 0 : Math.min(SURPRISE_MAX, -Math.log10(tail(n, k, q)));
        expect(got).toBeCloseTo(want, 6);
      }),
    );
  });

  it("falls as more of the scope's resets are finished, and is 0 at the rest's rate or above", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 20, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, k0, rest, p) => {
        const k = Math.min(k0, n - 1);
        const restDone = Math.round(p * rest);
        const a = surprise(n, k, n + rest, k + restDone);
        const b = surprise(n, k + 1, n + rest, k + 1 + restDone);
        expect(Number.isFinite(a) && a >= 0 && a <= SURPRISE_MAX).toBe(true);
        expect(b).toBeLessThanOrEqual(a + 1e-9);
        if ((k + 1) / n >= Math.min(0.95, restDone / rest)) expect(b).toBe(0);
      }),
    );
  });

  it("says nothing without sends or without enough of the rest of the site to compare with", () => {
    expect(surprise(0, 0, 1000, 600)).toBe(0);
    expect(surprise(10, 0, 10 + SURPRISE_MIN_REST - 1, 15)).toBe(0);
    expect(surprise(10, 0, 10 + SURPRISE_MIN_REST, 15)).toBeGreaterThan(0);
    // The rest finished nothing: no shortfall is surprising.
    expect(surprise(30, 0, 1000, 0)).toBe(0);
    // A big network's collapse is capped, not infinite (its terms would underflow as products).
    expect(surprise(5000, 10, 100_000, 60_000)).toBe(SURPRISE_MAX);
  });

  it("caps the rest's rate at 0.95: finishes reported without a send never make a shortfall look impossible", () => {
    // 40 finishes against 25 sends elsewhere (a rate above 1) reads as 0.95.
    expect(surprise(10, 0, 35, 40)).toBeCloseTo(-Math.log10(0.05 ** 10), 9);
  });
});
