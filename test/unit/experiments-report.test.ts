// Reports from tallies: rates with intervals, cost per completed reset with its interval,
// the ranking, the tests against the leader and the verdict in words. Tallies are built
// with the store's own field layout (tallyFields), from a seeded generator.
import { describe, expect, it } from "vitest";
import type { CompiledExperiment } from "../../src/scoring/experiments/compile.ts";
import { buildReport, type ExperimentReport } from "../../src/scoring/experiments/report.ts";
import { exposureUpdate, outcomeCounters, stopUpdate } from "../../src/scoring/experiments/tallies.ts";
import type { TallyRow, TallyUpdate } from "../../src/store/port.ts";
import { parseTallyField, tallyFields } from "../../src/store/tally.ts";
import { compileShipped } from "./support/rulesets.ts";

const ruleset = compileShipped();
const experiment = ruleset.experiments[0] as CompiledExperiment;
const T0 = Date.parse("2027-02-01T00:00:00Z");

/** A seeded PRNG (mulberry32), so every run sees the same data. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the store would hold after these updates. */
function rows(updates: readonly TallyUpdate[]): TallyRow[] {
  const fields = new Map<string, number>();
  for (const u of updates) for (const [f, v] of tallyFields(u)) fields.set(f, (fields.get(f) ?? 0) + v);
  return [...fields].flatMap(([f, value]) => {
    const p = parseTallyField(f);
    return p === null ? [] : [{ ...p, value }];
  });
}

interface ArmModel {
  readonly arm: string;
  readonly n: number;
  readonly complete: number;
  readonly fraud: number;
  readonly costMicros: number;
}

function play(models: readonly ArmModel[], seed = 7): TallyUpdate[] {
  const random = rng(seed);
  const out: TallyUpdate[] = [];
  for (const m of models) {
    for (let i = 0; i < m.n; i++) {
      const now = T0 + Math.floor(random() * 3 * 86_400_000);
      const id = `${m.arm}-${i}`;
      const add = (counters: Record<string, number>): void => {
        out.push({ experiment: experiment.id, arm: m.arm, now, add: counters, eventKey: null });
      };
      out.push(exposureUpdate(experiment.id, m.arm, now));
      add(outcomeCounters("sent", id, m.costMicros));
      if (random() < 0.15) add(outcomeCounters("sent", id, m.costMicros));
      const u = random();
      add(outcomeCounters(u < m.complete ? "completed" : "abandoned", id, 0));
      if (random() < m.fraud) add(outcomeCounters("fraud_reported", id, 0));
    }
  }
  return out;
}

const report = (updates: TallyUpdate[], now = T0 + 4 * 86_400_000): ExperimentReport => buildReport(ruleset, experiment, rows(updates), now);
const arm = (r: ExperimentReport, name: string) => r.arms.find((a) => a.arm === name);

describe("experiment report", () => {
  it("ranks by cost per completed reset, with intervals that contain the truth; the holdout is a baseline", () => {
    const r = report(play([
      { arm: "email", n: 2000, complete: 0.6, fraud: 0.005, costMicros: 100 },
      { arm: "sms", n: 2000, complete: 0.75, fraud: 0.005, costMicros: 8_300 },
      { arm: "holdout", n: 400, complete: 0.6, fraud: 0.005, costMicros: 100 },
    ]));
    // email and the holdout use the same channels: either may lead, sms is last.
    expect(r.arms.map((a) => a.rank)).toEqual([1, 2, 3]);
    expect(r.arms[2]?.arm).toBe("sms");
    const sms = arm(r, "sms");
    // True cost per completion: 1.15 sends × 0.0083 / 0.75 ≈ 0.01273.
    expect(sms?.costPerCompletion.ci?.lo).toBeLessThan(0.01273);
    expect(sms?.costPerCompletion.ci?.hi).toBeGreaterThan(0.01273);
    expect(sms?.completionRate.ci?.lo).toBeLessThan(0.75);
    expect(sms?.completionRate.ci?.hi).toBeGreaterThan(0.75);
    expect(sms?.exposures).toBe(2000);
    // The leader is an arm; the holdout (same channels as email) is reported as a baseline
    // and does not hold back the verdict.
    expect(r.verdict.leader).toBe("email");
    expect(r.verdict.enough).toBe(true);
    expect(r.comparisons.find((c) => c.arm === "holdout")?.baseline).toBe(true);
    expect(r.verdict.details.join(" ")).toMatch(/Baseline: the holdout \(the tier's own channels\) costs 0\.000\d+ USD per completed reset \(p = [\d.]+ against "email"\)\./);
    const vsSms = r.comparisons.find((c) => c.arm === "sms");
    expect(vsSms?.costPAdjusted).toBeLessThan(1e-6);
    expect(vsSms?.completionP).toBeLessThan(0.05);
    expect(r.verdict.headline).toMatch(/^"email" is ahead: 0\.000\d+ USD per completed reset \(95 % CI [^)]+\) against 0\.01\d+ for "sms" \(p < 0\.0001\)\.$/);
    expect(r.verdict.details.join(" ")).toMatch(/"sms" completes more resets than /);
    expect(r.status).toBe("running");
    expect(r.verdict.provisional).toBe(true);
  });

  it("says the evidence is enough when every comparison is significant", () => {
    const r = report(play([
      { arm: "email", n: 1500, complete: 0.6, fraud: 0.005, costMicros: 100 },
      { arm: "sms", n: 1500, complete: 0.7, fraud: 0.005, costMicros: 8_300 },
    ]));
    expect(r.verdict.enough).toBe(true);
    expect(r.verdict.details[0]).toMatch(/^The evidence is enough/);
  });

  it("with little data, names the leader but says the evidence is not enough, and how much more is needed", () => {
    const r = report(play([
      { arm: "email", n: 40, complete: 0.6, fraud: 0, costMicros: 8_000 },
      { arm: "sms", n: 40, complete: 0.65, fraud: 0, costMicros: 8_300 },
    ]));
    expect(r.verdict.enough).toBe(false);
    expect(r.verdict.details.join(" ")).toMatch(/not enough yet \(an arm has fewer than 30 completed resets\)/);
  });

  it("warns when the cheaper arm lets through more fraud", () => {
    const r = report(play([
      { arm: "email", n: 3000, complete: 0.6, fraud: 0.04, costMicros: 100 },
      { arm: "sms", n: 3000, complete: 0.6, fraud: 0.005, costMicros: 8_300 },
    ]));
    expect(r.verdict.leader).toBe("email");
    expect(r.verdict.details.join(" ")).toMatch(/Warning: "email" lets through more fraud than "sms"/);
    expect(arm(r, "email")?.guardrails.find((g) => g.metric === "fraud_rate")?.crossed).toBe(true);
  });

  it("does not rank a stopped arm, and says when and why it stopped", () => {
    const updates = play([
      { arm: "email", n: 300, complete: 0.6, fraud: 0.005, costMicros: 100 },
      { arm: "sms", n: 300, complete: 0.9, fraud: 0.1, costMicros: 8_300 },
    ]);
    updates.push(stopUpdate(experiment.id, "sms", "fraud_rate", Date.parse("2027-02-03T10:00:00Z")));
    const r = report(updates);
    expect(arm(r, "sms")?.rank).toBeNull();
    expect(arm(r, "sms")?.stopped).toEqual({ guardrail: "fraud_rate", date: "2027-02-03" });
    expect(r.verdict.details[0]).toBe('"sms" was stopped by its fraud rate guardrail on 2027-02-03; its exposures now go to the other arms.');
  });

  it("says when the holdout's own channels beat every arm, and when only one arm is left", () => {
    const r = report(play([
      { arm: "email", n: 800, complete: 0.5, fraud: 0, costMicros: 400 },
      { arm: "sms", n: 800, complete: 0.5, fraud: 0, costMicros: 8_300 },
      { arm: "holdout", n: 800, complete: 0.7, fraud: 0, costMicros: 100 },
    ]));
    expect(r.arms[0]?.arm).toBe("holdout");
    expect(r.verdict.leader).toBe("email");
    expect(r.verdict.details.join(" ")).toMatch(/Baseline: .*: cheaper than every arm, so the tier's own channels are the better choice\./);
    const updates = play([
      { arm: "email", n: 100, complete: 0.6, fraud: 0, costMicros: 100 },
      { arm: "holdout", n: 100, complete: 0.6, fraud: 0, costMicros: 100 },
    ]);
    updates.push(stopUpdate(experiment.id, "sms", "abandonment_rate", T0));
    const one = report(updates);
    expect(one.verdict.headline).toBe('Only "email" can be ranked; there is no other arm to compare it with.');
    expect(one.verdict.details[0]).toMatch(/^"sms" was stopped by its abandonment rate guardrail on /);
  });

  it("says so when there is nothing yet, and when nothing completed", () => {
    expect(report([]).verdict.headline).toBe("No exposures yet.");
    const none = report([exposureUpdate(experiment.id, "sms", T0), exposureUpdate(experiment.id, "email", T0)]);
    expect(none.verdict.headline).toBe("No arm has a completed reset yet, so none can be ranked.");
  });

  it("gives cumulative exposures per arm hour by hour, and the status by date", () => {
    const r = report([
      exposureUpdate(experiment.id, "sms", T0 + 60_000),
      exposureUpdate(experiment.id, "sms", T0 + 2 * 3_600_000),
      exposureUpdate(experiment.id, "email", T0 + 2 * 3_600_000 + 5),
    ], experiment.endMs + 1);
    expect(r.series.find((s) => s.arm === "sms")?.points).toEqual([
      { t: "2027-02-01T00:00:00.000Z", cumulative: 1 },
      { t: "2027-02-01T02:00:00.000Z", cumulative: 2 },
    ]);
    expect(r.series.find((s) => s.arm === "email")?.points.map((p) => p.cumulative)).toEqual([0, 1]);
    expect(r.status).toBe("ended");
    expect(buildReport(ruleset, experiment, [], experiment.startMs - 1).status).toBe("scheduled");
  });
});
