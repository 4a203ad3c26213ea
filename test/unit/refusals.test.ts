// The screen's refusals become one `ratelimit.refused` event per blocked key per window,
// carrying the count; every refusal of a window shares the event's decision id.
import { describe, expect, it } from "vitest";
import type { AuditInput } from "../../src/audit/events.ts";
import { RefusalTally } from "../../src/reset/refusals.ts";
import type { Refusal } from "../../src/reset/screen.ts";

function refusal(entity: string, ladder = "ip", step: "block" | "penalty" = "block", retryAfterS = 30): Refusal {
  return {
    ladder: { name: ladder, key: ladder === "subnet" ? "subnet" : "ip", step, retryAfterMs: retryAfterS * 1000, level: 0, penalize: null, waived: false },
    entity,
    retryAfterS,
  };
}

/** A tally whose window closes when the test says so. */
function harness() {
  const emitted: (readonly AuditInput[])[] = [];
  let close: () => void = () => undefined;
  let n = 0;
  const tally = new RefusalTally({
    newId: () => `id-${++n}`,
    sleep: () =>
      new Promise<void>((resolve) => {
        close = resolve;
      }),
  });
  return { tally, emitted, closeWindow: () => close() };
}

describe("refusal tally", () => {
  it("reports each blocked key once per window with its count, span and largest Retry-After", async () => {
    const { tally, emitted, closeWindow } = harness();
    const first = tally.add(refusal("k1"), "/password/reset", "critical", 1000);
    const second = tally.add(refusal("k1", "ip", "block", 45), "/password/reset", "critical", 1400);
    const other = tally.add(refusal("k2", "subnet", "penalty"), "/password/reset", "critical", 1500);
    // One flush per window, handed out once; later refusals add nothing to wait for.
    expect(first.reported).not.toBeNull();
    expect(second.reported).toBeNull();
    expect(other.reported).toBeNull();
    // Refusals of one key share the id; another key has its own.
    expect(second.id).toBe(first.id);
    expect(other.id).not.toBe(first.id);
    closeWindow();
    emitted.push((await first.reported) ?? []);
    expect(emitted).toHaveLength(1);
    const [k1, k2] = emitted[0] ?? [];
    expect(k1).toMatchObject({
      type: "ratelimit.refused",
      decision_id: first.id,
      request_id: null,
      at: 1400,
      data: { ladder: "ip", step: "block", key: "ip", entity: "k1", count: 2, retry_after_s: 45, tier: "critical",
        first_at: new Date(1000).toISOString(), last_at: new Date(1400).toISOString(), route: "/password/reset" },
    });
    expect(k2).toMatchObject({ decision_id: other.id, data: { ladder: "subnet", step: "penalty", key: "subnet", count: 1 } });
  });

  it("starts a new window, with new ids, after a flush", async () => {
    const { tally, emitted, closeWindow } = harness();
    const a = tally.add(refusal("k1"), "/r", "critical", 1);
    closeWindow();
    emitted.push((await a.reported) ?? []);
    const b = tally.add(refusal("k1"), "/r", "critical", 2000);
    expect(b.reported).not.toBeNull();
    expect(b.id).not.toBe(a.id);
    closeWindow();
    emitted.push((await b.reported) ?? []);
    expect(emitted.map((batch) => batch.map((e) => e.type === "ratelimit.refused" && e.data.count))).toEqual([[1], [1]]);
  });
});
