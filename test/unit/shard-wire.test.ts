// The Durable Object adapter sends a shard its batch as flat arrays (src/store/shard-wire.ts)
// and reads the answers back from one array of numbers. Packing keeps every operation's
// key, member, window, limit and policy in order; unpacking gives each kind its own
// answers in the batch's order. A real shard answering a packed batch is in
// test/worker/store-durable-object.test.ts and the store contract suite.
import { describe, expect, it } from "vitest";
import { packBatch, type ShardBatch, unpackResult } from "../../src/store/shard-wire.ts";

const policy = (baseMs: number) => ({ baseMs, factor: 2, maxMs: 3_600_000, decayMs: 86_400_000 });
const batch: ShardBatch = {
  now: 1_800_000_000_000,
  hits: [
    { key: "v:ip:a", windowMs: 600_000 },
    { key: "v:account:b", windowMs: 3_600_000 },
  ],
  distinct: [{ key: "d:ip:account:a", member: "b", windowMs: 86_400_000 }],
  limits: [
    { key: "rl:ip.0:a", limit: 10, windowMs: 600_000, cache: false },
    { key: "rl:ip.1:a", limit: 20, windowMs: 60_000, cache: true },
  ],
  penalties: [
    { key: "pen:ip:a", policy: policy(60_000), cache: true },
    { key: "pen:subnet:c", policy: policy(120_000), cache: false },
  ],
  historyKey: "h:b",
  rosterKey: "b",
};

describe("the shard wire", () => {
  it("packs every operation into flat arrays, kind after kind, with no object per operation", () => {
    const wire = packBatch(batch);
    expect(wire.sizes).toEqual([2, 1, 2, 2]);
    expect(wire.keys).toEqual(["v:ip:a", "v:account:b", "d:ip:account:a", "rl:ip.0:a", "rl:ip.1:a", "pen:ip:a", "pen:subnet:c"]);
    expect(wire.members).toEqual(["b"]);
    expect(wire.numbers).toEqual([
      600_000, 3_600_000, 86_400_000, 10, 600_000, 20, 60_000, 60_000, 2, 3_600_000, 86_400_000, 120_000, 2, 3_600_000, 86_400_000,
    ]);
    expect([wire.now, wire.historyKey, wire.rosterKey]).toEqual([batch.now, "h:b", "b"]);
    expect(Object.values(wire).flat().every((v) => v === null || typeof v !== "object")).toBe(true);
    const { rosterKey: _, ...unasked } = batch;
    expect(packBatch(unasked).rosterKey).toBeNull();
  });

  it("unpacks one array of numbers into each kind's answers in the batch's order", () => {
    const history = { devices: ["d1"], countries: ["DE"], asns: [3320], lastVerified: null, privileged: false };
    const result = unpackResult(batch, {
      numbers: [4, 7, 2, 1, 9, 1_800_000_600_000, 0, 0, 1_800_000_060_000, 3, 1_800_000_100_000, 0, 0],
      history,
      roster: "listed",
    });
    expect(result).toEqual({
      counts: [4, 7],
      distinct: [2],
      limits: [
        { success: true, remaining: 9, reset: 1_800_000_600_000 },
        { success: false, remaining: 0, reset: 1_800_000_060_000 },
      ],
      penalties: [
        { level: 3, until: 1_800_000_100_000 },
        { level: 0, until: 0 },
      ],
      history,
      roster: "listed",
    });
    expect("roster" in unpackResult(batch, { numbers: [], history: null, roster: null })).toBe(false);
  });
});
