// Completion rates (issue #16.4): the probe read and the outcome adds, pure.
import { describe, expect, it } from "vitest";
import { COMPLETION_WINDOW_MS, completionAdds, completionFacts, completionKeys, PROBE_MEMBER, planCompletion, SITE_DONE_KEY } from "../../src/scoring/signals/completion.ts";

describe("completion rates", () => {
  it("probes the country and network sets, and subtracts the probe from each count", () => {
    const plan = planCompletion("NL", 1136);
    const cc = completionKeys("cc", "NL");
    const asn = completionKeys("asn", 1136);
    expect(plan.distinct.map((d) => d.key)).toEqual([cc.sent, cc.done, cc.anySent, cc.anyDone, asn.sent, asn.done, asn.anySent, asn.anyDone, SITE_DONE_KEY]);
    expect(new Set(plan.distinct.map((d) => d.key)).size).toBe(9);
    expect(plan.distinct.every((d) => d.member === PROBE_MEMBER && d.windowMs === COMPLETION_WINDOW_MS)).toBe(true);
    expect(completionFacts(plan, [41, 3, 101, 61, 11, 9, 21, 2, 501])).toEqual({
      country_sent: 40, country_completed: 2, country_rate: 0.05, asn_sent: 10, asn_completed: 8, asn_rate: 0.8,
      country_any_sent: 100, country_any_completed: 60, country_any_rate: 0.6, asn_any_sent: 20, asn_any_completed: 1, asn_any_rate: 0.05,
      site_any_completed: 500,
    });
  });

  it("no sends is no evidence (rate 1.0); unknown country or network are not probed; a failed store reads as nothing", () => {
    const none = planCompletion("", 0);
    // The site's finished resets are read whatever the request's country and network.
    expect(none.distinct.map((d) => d.key)).toEqual([SITE_DONE_KEY]);
    expect(completionFacts(none, [])).toMatchObject({ country_sent: 0, country_rate: 1, asn_rate: 1, country_any_rate: 1, asn_any_rate: 1, site_any_completed: 0 });
    expect(completionFacts(none, [8]).site_any_completed).toBe(7);
    const asnOnly = planCompletion("", 3320);
    expect(completionFacts(asnOnly, [21, 1, 31, 1, 4])).toMatchObject({ country_sent: 0, country_any_sent: 0, asn_sent: 20, asn_completed: 0, asn_rate: 0, asn_any_sent: 30, asn_any_rate: 0, site_any_completed: 3 });
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
    expect(completionAdds({ ...base, event: "sent", channel: "sms_otp" })).toEqual([at(cc.sent), at(cc.anySent), at(asn.sent), at(asn.anySent)]);
    // A finished reset also counts for the whole site (the origin does report completions).
    expect(completionAdds({ ...base, event: "completed", channel: "voice_otp" }).map((a) => a.key)).toEqual([cc.done, cc.anyDone, asn.done, asn.anyDone, SITE_DONE_KEY]);
    expect(completionAdds({ ...base, event: "verified", channel: "sms_otp" })).toHaveLength(5);
    // Email (or a channel the origin did not name) counts towards the any-channel rates only.
    expect(completionAdds({ ...base, event: "sent", channel: "email_otp" })).toEqual([at(cc.anySent), at(asn.anySent)]);
    expect(completionAdds({ ...base, event: "completed", channel: null })).toEqual([at(cc.anyDone), at(asn.anyDone), at(SITE_DONE_KEY)]);
    for (const event of ["abandoned", "fraud_reported"] as const) {
      expect(completionAdds({ ...base, event, channel: "sms_otp" })).toEqual([]);
      expect(completionAdds({ ...base, event, channel: "email_link" })).toEqual([]);
    }
    expect(completionAdds({ ...base, country: null, asn: null, event: "sent", channel: "sms_otp" })).toEqual([]);
    expect(completionAdds({ ...base, country: "", asn: 0, event: "sent", channel: "email_link" })).toEqual([]);
    expect(completionAdds({ ...base, country: null, asn: null, event: "completed", channel: "email_link" })).toEqual([at(SITE_DONE_KEY)]);
  });
});
