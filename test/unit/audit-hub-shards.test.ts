// Hub sharding in the isolate and at read: a flush splits by decision id (events without one
// go to shard 0), each shard's RPC retried on its own; sink and metric views add up.
import { describe, expect, it } from "vitest";
import type { HubEntry } from "../../src/audit/hub/object.ts";
import { AuditHubs, type HubShard, hubName, hubShardOf, mergeSinks, mergeTotals } from "../../src/audit/hub/shards.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import type { SinkStatus } from "../../src/audit/api-types.ts";
import { durableSink } from "../../src/audit/sinks/hub.ts";
import { shardOf } from "../../src/store/durable-object-store.ts";
import { decision } from "./support/events.ts";

const noSleep = async () => {};

describe("hub shard routing", () => {
  it("shard 0 keeps the historic name; events without a decision id go there", () => {
    expect([hubName(0), hubName(3)]).toEqual(["hub", "hub-3"]);
    expect(hubShardOf({ decision_id: null }, 8)).toBe(0);
    expect(hubShardOf({ decision_id: "d-1" }, 8)).toBe(shardOf("d-1", 8));
  });

  it("a flush sends each shard its own events, one RPC per shard, and retries only the one that failed", async () => {
    const calls: Array<{ shard: number; ids: string[] }> = [];
    let failOnce = true;
    const sink = durableSink({
      shards: 4,
      hub: (shard) => ({
        async ingest(entries: readonly HubEntry[]) {
          calls.push({ shard, ids: entries.map((e) => e.event.id) });
          if (shard === shardOf("dec-b", 4) && failOnce) {
            failOnce = false;
            throw new Error("hub down");
          }
        },
      }),
      queue: null,
      webhook: false,
      format: "ocsf",
      windowMs: 0,
      sleep: noSleep,
    });
    const a = decision({}, {});
    const events = [
      { ...a, id: "a1", decision_id: "dec-a" },
      { ...a, id: "b1", decision_id: "dec-b" },
      { ...a, id: "a2", decision_id: "dec-a" },
    ];
    await sink.write(events);
    const byShard = new Map<number, string[]>();
    for (const c of calls) byShard.set(c.shard, [...(byShard.get(c.shard) ?? []), ...c.ids]);
    const sa = shardOf("dec-a", 4);
    const sb = shardOf("dec-b", 4);
    expect(sa).not.toBe(sb);
    expect(calls.filter((c) => c.shard === sa)).toEqual([{ shard: sa, ids: ["a1", "a2"] }]);
    expect(calls.filter((c) => c.shard === sb)).toEqual([
      { shard: sb, ids: ["b1"] },
      { shard: sb, ids: ["b1"] },
    ]);
  });
});

describe("merged views", () => {
  const status = (over: Partial<SinkStatus>): SinkStatus => ({
    sink: "webhook",
    pending: 0,
    oldestAgeMs: null,
    attempts: 0,
    nextAttemptAt: null,
    lastError: null,
    lastOkAt: null,
    delivered: 0,
    failures: 0,
    ...over,
  });

  it("outbox backlogs add up and the worst shard's retry state shows", () => {
    const merged = mergeSinks([
      [status({ pending: 3, oldestAgeMs: 1_000, delivered: 10, lastOkAt: 5 })],
      [status({ pending: 4, oldestAgeMs: 9_000, attempts: 2, lastError: "WEBHOOK_HTTP_500", nextAttemptAt: 77, failures: 2 })],
    ]);
    expect(merged).toEqual([
      status({ pending: 7, oldestAgeMs: 9_000, attempts: 2, lastError: "WEBHOOK_HTTP_500", nextAttemptAt: 77, delivered: 10, failures: 2, lastOkAt: 5 }),
    ]);
  });

  it("running totals are summed per series, whatever the label order", () => {
    const merged = mergeTotals([
      [{ name: "m", labels: { a: "1", b: "2" }, value: 2 }],
      [{ name: "m", labels: { b: "2", a: "1" }, value: 3 }, { name: "m", labels: { a: "9" }, value: 1 }],
    ]);
    expect(merged).toEqual([
      { name: "m", labels: { a: "1", b: "2" }, value: 5 },
      { name: "m", labels: { a: "9" }, value: 1 },
    ]);
  });
});

describe("decisions export over shards", () => {
  // Each fake shard pages its own ids with a plain `at.rowid` cursor, as the hub does.
  function shard(ids: readonly string[]): HubShard {
    const unused = async (): Promise<never> => {
      throw new Error("not read by the export");
    };
    return {
      summaryParts: unused,
      totalsParts: unused,
      decisions: unused,
      event: unused,
      eventsOf: unused,
      deliver: unused,
      async exportDecisions(_since: number, cursor: string | null, limit: number) {
        const from = cursor === null ? 0 : Number(cursor.split(".")[1]) + 1;
        const page = ids.slice(from, from + limit);
        const lines = page.map((id) => ({ type: "riskgate.outcome", ts: "", decision: id, event: "sent", account: null }) as unknown as DecisionLogLine);
        return { lines, next: page.length < limit ? null : `1.${from + page.length - 1}` };
      },
    };
  }

  async function pages(hubs: AuditHubs, limit: number): Promise<{ ids: string[]; cursors: (string | null)[] }> {
    const ids: string[] = [];
    const cursors: (string | null)[] = [null];
    for (let i = 0; i < 20; i++) {
      const page = await hubs.exportDecisions(0, cursors.at(-1) ?? null, limit);
      ids.push(...page.lines.map((l) => (l as unknown as { decision: string }).decision));
      if (page.next === null) return { ids, cursors };
      cursors.push(page.next);
    }
    throw new Error("the export never ended");
  }

  it("pages every shard once, in turn, without splitting or repeating a decision", async () => {
    const data = [["a", "b", "c"], [], ["d", "e"]];
    const { ids, cursors } = await pages(new AuditHubs((n) => shard(data[n] ?? []), 3), 2);
    expect(ids).toEqual(["a", "b", "c", "d", "e"]);
    // Shard 0 keeps plain cursors (one shard exports as before); later shards are prefixed.
    expect(cursors).toEqual([null, "1.1", "1:", "2:1.1"]);
  });

  it("with one shard, cursors are the hub's own", async () => {
    const { ids, cursors } = await pages(new AuditHubs(() => shard(["a", "b", "c"]), 1), 2);
    expect(ids).toEqual(["a", "b", "c"]);
    expect(cursors).toEqual([null, "1.1"]);
  });
});
