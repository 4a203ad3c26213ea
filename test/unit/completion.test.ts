// Completion rates (issue #16.4): the probe read and the outcome adds, pure.
import { describe, expect, it } from "vitest";
import { COMPLETION_WINDOW_MS, completionAdds, completionFacts, completionKeys, PROBE_MEMBER, planCompletion } from "../../src/scoring/signals/completion.ts";

describe("completion rates", () => {
  it("probes the country and network sets, and subtracts the probe from each count", () => {
    const plan = planCompletion("NL", 1136);
    expect(plan.distinct.map((d) => d.key)).toEqual([
      completionKeys("cc", "NL").sent, completionKeys("cc", "NL").done, completionKeys("asn", 1136).sent, completionKeys("asn", 1136).done,
    ]);
    expect(plan.distinct.every((d) => d.member === PROBE_MEMBER && d.windowMs === COMPLETION_WINDOW_MS)).toBe(true);
    expect(completionFacts(plan, [41, 3, 11, 9])).toEqual({
      country_sent: 40, country_completed: 2, country_rate: 0.05, asn_sent: 10, asn_completed: 8, asn_rate: 0.8,
    });
  });

  it("no sends is no evidence (rate 1.0); unknown country or network are not probed; a failed store reads as nothing", () => {
    const none = planCompletion("", 0);
    expect(none.distinct).toEqual([]);
    expect(completionFacts(none, [])).toMatchObject({ country_sent: 0, country_rate: 1, asn_rate: 1 });
    const asnOnly = planCompletion("", 3320);
    expect(completionFacts(asnOnly, [21, 1])).toMatchObject({ country_sent: 0, asn_sent: 20, asn_completed: 0, asn_rate: 0 });
    expect(completionFacts(planCompletion("DE", 3320), [])).toMatchObject({ country_sent: 0, country_rate: 1, asn_sent: 0, asn_rate: 1 });
    // More completions than sends (a send not reported) never reads above 1.
    expect(completionFacts(planCompletion("DE", 0), [3, 5]).country_rate).toBe(1);
  });

  it("counts SMS and voice sends and completions only, by decision", () => {
    const base = { country: "NL", asn: 1136, decisionKey: "d".repeat(22) };
    expect(completionAdds({ ...base, event: "sent", channel: "sms_otp" })).toEqual([
      { key: completionKeys("cc", "NL").sent, member: "d".repeat(22), windowMs: COMPLETION_WINDOW_MS },
      { key: completionKeys("asn", 1136).sent, member: "d".repeat(22), windowMs: COMPLETION_WINDOW_MS },
    ]);
    expect(completionAdds({ ...base, event: "completed", channel: "voice_otp" }).map((a) => a.key)).toEqual([
      completionKeys("cc", "NL").done, completionKeys("asn", 1136).done,
    ]);
    expect(completionAdds({ ...base, event: "verified", channel: "sms_otp" })).toHaveLength(2);
    for (const [event, channel] of [["sent", "email_otp"], ["sent", null], ["abandoned", "sms_otp"], ["fraud_reported", "sms_otp"]] as const) {
      expect(completionAdds({ ...base, event, channel })).toEqual([]);
    }
    expect(completionAdds({ ...base, country: null, asn: null, event: "sent", channel: "sms_otp" })).toEqual([]);
  });
});
