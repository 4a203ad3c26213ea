// Outcomes reach experiments through POST /v1/outcomes: the cost of a send comes from
// the origin's report or the cost table (per channel and destination country),
// per-decision events count once, and a decision outside any experiment adds nothing.
import { describe, expect, it } from "vitest";
import { countsByArm } from "../../src/scoring/experiments/tallies.ts";
import { experimentHarness, type ExperimentHarness, type Forwarded, lowTierExperiment, reportOutcome, reset } from "./experiments-harness.ts";

const DE_IP = "80.128.0.1"; // Deutsche Telekom in the bundled geo database

async function enrolled(h: ExperimentHarness, arm: string, n = 60): Promise<Forwarded> {
  for (let i = 0; i < n; i++) {
    h.clock.now += 60_000;
    await reset(h, `${arm}-${i}-${crypto.randomUUID().slice(0, 6)}@example.com`, { ip: `80.128.${i}.1` });
    const last = h.forwarded.at(-1);
    if ((last?.claims.experiment as { arm?: string } | undefined)?.arm === arm) return last as Forwarded;
  }
  throw new Error(`no decision in arm ${arm}`);
}

async function armCounts(h: ExperimentHarness, id: string, arm: string) {
  return countsByArm(await h.gateway.store.readTallies(id), [arm]).get(arm);
}

describe("outcomes counted for experiments", () => {
  const spec = (id: string) =>
    lowTierExperiment(id, {
      arms: [
        { id: "sms", channels: ["sms_otp", "email_otp"], weight: 1 },
        { id: "email", channels: ["email_otp"], weight: 1 },
      ],
    });

  it.each([
    ["the cost table's price for the request's country (DE)", {}, 94_300],
    ["the cost table's price for the reported destination (US)", { country: "US" }, 8_300],
    ["the origin's actual cost", { cost: 0.05, country: "US" }, 50_000],
    ["the reported channel's price (voice to Japan)", { channel: "voice_otp", country: "JP" }, 92_000],
  ])("a send costs %s", async (_name, extra, micros) => {
    const id = `cost-${crypto.randomUUID().slice(0, 8)}`;
    const h = await experimentHarness(spec(id));
    await reset(h, "warm@example.com", { ip: DE_IP });
    const decision = await enrolled(h, "sms");
    expect(decision.claims.channel).toBe("sms_otp");
    const res = await reportOutcome(h, decision, "sent", extra);
    expect(res.status).toBe(200);
    const c = await armCounts(h, id, "sms");
    expect(c?.sends).toBe(1);
    expect(c?.costMicros).toBe(micros);
    expect(c?.costGroups.reduce((s, x) => s + x, 0)).toBe(micros);
  });

  it("a resend costs again; completion and abandonment count once per decision", async () => {
    const id = `once-${crypto.randomUUID().slice(0, 8)}`;
    const h = await experimentHarness(spec(id));
    await reset(h, "warm@example.com", { ip: DE_IP });
    const decision = await enrolled(h, "email");
    for (const event of ["sent", "sent", "completed", "completed", "verified", "abandoned", "abandoned"]) {
      expect((await reportOutcome(h, decision, event)).status).toBe(200);
    }
    const c = await armCounts(h, id, "email");
    expect(c).toMatchObject({ sends: 2, costMicros: 200, completions: 1, verifications: 1, abandonments: 1, fraudReports: 0 });
    expect(c?.completionGroups.reduce((s, x) => s + x, 0)).toBe(1);
  });

  it("a decision outside the experiment adds nothing to it", async () => {
    const id = `outside-${crypto.randomUUID().slice(0, 8)}`;
    const h = await experimentHarness(spec(id));
    await reset(h, "cold@example.com", { ip: DE_IP }); // a new isolate does not enrol yet
    const cold = h.forwarded[0];
    if (cold === undefined) throw new Error("not forwarded");
    expect(cold.claims.experiment).toBeUndefined();
    const res = await reportOutcome(h, cold, "completed");
    expect(await res.json()).not.toHaveProperty("experiment");
    expect(await h.gateway.store.readTallies(id)).toEqual([]);
  });

  it.each([
    ["a negative cost", { cost: -1 }, "cost must be a number from 0 to 1000"],
    ["a cost as text", { cost: "0.05" }, "cost must be a number"],
    ["a country that is not ISO alpha-2", { country: "Germany" }, "country must be an ISO 3166-1 alpha-2 code"],
    ["a channel name with spaces", { channel: "sms otp" }, "channel must be a channel name"],
  ])("rejects %s (400 ERR_OUTCOME_INVALID)", async (_name, extra, message) => {
    const h = await experimentHarness(spec(`bad-${crypto.randomUUID().slice(0, 8)}`));
    await reset(h, "x@example.com", { ip: DE_IP });
    const decision = h.forwarded[0];
    if (decision === undefined) throw new Error("not forwarded");
    const res = await reportOutcome(h, decision, "sent", extra);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("ERR_OUTCOME_INVALID");
    expect(body.error.message).toContain(message);
  });
});
