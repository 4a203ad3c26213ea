// The emitter and the durable sink's per-isolate batching, with fake time.
import { describe, expect, it } from "vitest";
import { type AuditSink, createAuditor } from "../../src/audit/auditor.ts";
import type { AuditEvent, AuditInput } from "../../src/audit/events.ts";
import type { HubEntry } from "../../src/audit/hub/object.ts";
import { durableSink } from "../../src/audit/sinks/hub.ts";
import type { QueueSender } from "../../src/audit/sinks/queue.ts";
import { decisionData } from "./support/events.ts";

const input = (n: number): AuditInput => ({ type: "decision", request_id: `r${n}`, decision_id: `d${n}`, data: decisionData() });

function collect(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { name: "collect", events, write: (batch) => void events.push(...batch) };
}

function auditorWith(sinks: AuditSink[], errors: string[] = []) {
  let id = 0;
  return createAuditor({
    source: "iso-1",
    rules: "v1",
    sinks,
    now: () => 1_000,
    newId: () => `id-${++id}`,
    startup: [{ type: "key.in_use", request_id: null, decision_id: null, data: { kid: "k", alg: "ES256", published: ["k"] } }],
    onSinkError: (sink) => errors.push(sink),
  });
}

describe("createAuditor", () => {
  it("numbers events per source from 1, startup events first, and stamps the rule set", async () => {
    const sink = collect();
    const auditor = auditorWith([sink]);
    await auditor.emit(input(1), input(2));
    await auditor.emit(input(3));
    expect(sink.events.map((e) => [e.seq, e.type])).toEqual([[1, "key.in_use"], [2, "decision"], [3, "decision"], [4, "decision"]]);
    expect(new Set(sink.events.map((e) => e.id)).size).toBe(4);
    expect(sink.events.every((e) => e.source === "iso-1" && e.rules === "v1" && e.v === 1)).toBe(true);
  });

  it("a failing sink neither throws nor keeps the other sinks from their events", async () => {
    const good = collect();
    const errors: string[] = [];
    const broken: AuditSink = { name: "broken", write: () => Promise.reject(new Error("down")) };
    await expect(auditorWith([broken, good], errors).emit(input(1))).resolves.toBeUndefined();
    expect(good.events).toHaveLength(2);
    expect(errors).toEqual(["broken"]);
  });

  it("a sink that throws synchronously is reported like one that rejects, and the others still get the events", async () => {
    const good = collect();
    const errors: string[] = [];
    const throwing: AuditSink = {
      name: "throwing",
      write: () => {
        throw new Error("bad line");
      },
    };
    const rejecting: AuditSink = { name: "rejecting", write: () => Promise.reject(new Error("down")) };
    await expect(auditorWith([throwing, rejecting, good], errors).emit(input(1))).resolves.toBeUndefined();
    expect(good.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(errors.sort()).toEqual(["rejecting", "throwing"]);
  });

  it("stamps each event with its own instant, whether or not the one before shared it", async () => {
    const sink = collect();
    const at = (n: number, ms: number): AuditInput => ({ ...input(n), at: ms });
    await auditorWith([sink]).emit(at(1, 0), at(2, 0), at(3, 86_400_000), at(4, 0), input(5));
    expect(sink.events.map((e) => e.ts)).toEqual([
      "1970-01-01T00:00:01.000Z",
      "1970-01-01T00:00:00.000Z",
      "1970-01-01T00:00:00.000Z",
      "1970-01-02T00:00:00.000Z",
      "1970-01-01T00:00:00.000Z",
      "1970-01-01T00:00:01.000Z",
    ]);
  });
});

/** A hub that records batches and fails the first `failures` calls. */
function hub(failures = 0) {
  const calls: HubEntry[][] = [];
  let left = failures;
  return {
    calls,
    ingest: async (entries: readonly HubEntry[]) => {
      calls.push([...entries]);
      if (left-- > 0) throw new Error("hub unavailable");
    },
  };
}

/** Fake time: sleeps resolve when the test says so. */
function fakeSleep() {
  const waits: { ms: number; wake: () => void }[] = [];
  return {
    waits,
    sleep: (ms: number) => new Promise<void>((wake) => waits.push({ ms, wake })),
    /** Wake sleepers one by one until nothing more is waiting once pending work settles. */
    async runAll() {
      for (;;) {
        await new Promise((r) => setImmediate(r));
        const next = waits.shift();
        if (next === undefined) return;
        next.wake();
      }
    },
  };
}

describe("durableSink", () => {
  const events = (n: number): AuditEvent[] => Array.from({ length: n }, (_, i) => ({ id: `e${i}` }) as AuditEvent);

  it("coalesces writes within the window into one hub call, which the write that opened the window waits for", async () => {
    const h = hub();
    const time = fakeSleep();
    const sink = durableSink({ hub: () => h, queue: null, webhook: true, format: "ocsf", sleep: time.sleep });
    let firstDone = false;
    const first = Promise.resolve(sink.write(events(2))).then(() => {
      firstDone = true;
    });
    // A write joining the window returns at once; the opener's waitUntil carries the flush.
    await sink.write(events(1));
    expect(firstDone).toBe(false);
    expect(h.calls).toHaveLength(0);
    await time.runAll();
    await first;
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]?.map((e) => e.deliver)).toEqual([["webhook"], ["webhook"], ["webhook"]]);
  });

  it("retries a failed hub call with the same batch, then gives up loudly", async () => {
    const flaky = hub(1);
    const time = fakeSleep();
    const ok = durableSink({ hub: () => flaky, queue: null, webhook: false, format: "ocsf", sleep: time.sleep });
    const done = ok.write(events(1));
    await time.runAll();
    await done;
    expect(flaky.calls).toHaveLength(2);
    expect(flaky.calls[1]).toEqual(flaky.calls[0]);
    expect(time.waits).toHaveLength(0);

    const down = hub(99);
    const failing = durableSink({ hub: () => down, queue: null, webhook: false, format: "ocsf", sleep: time.sleep, retryDelaysMs: [10] });
    const settled = Promise.resolve(failing.write(events(1))).catch((err: unknown) => err);
    await time.runAll();
    expect(await settled).toBeInstanceOf(Error);
    expect(down.calls).toHaveLength(2);
  });

  it.each([
    ["accepts", async () => ({}) as never, []],
    ["fails", async () => Promise.reject(new Error("queue down")), ["queue"]],
  ])("when the queue %s, the hub outbox gets %o", async (_name, sendBatch, deliver) => {
    const h = hub();
    const time = fakeSleep();
    const queue: QueueSender = { sendBatch };
    const sink = durableSink({ hub: () => h, queue, webhook: false, format: "riskgate", sleep: time.sleep });
    const done = sink.write(events(1));
    await time.runAll();
    await done;
    expect(h.calls[0]?.[0]?.deliver).toEqual(deliver);
  });
});
