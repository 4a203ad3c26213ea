// The stage table (bench/stages.mjs) profiles every isolate of the benchmark's split layout:
// the worker, the store object and the audit hub run on workerd's one main thread, each
// with a profiler that samples only while its isolate runs. Attributing each sample the
// interval to the next sample of its own profile (as for one profile) would give a worker
// sample taken just before a store RPC the whole time the store object then ran: three
// profiles summed to about twice workerd's CPU. These check the merged attribution and the
// per-thread CPU the table sets against it.
import { describe, expect, it } from "vitest";
import { attributeIsolates, moduleMap, rowOrder, threadDeltas } from "../../bench/stages.mjs";

// A bundle of three modules, as wrangler's esbuild marks them: lines 0-9, 10-19, 20-29.
const bundle = ["// src/reset/screen.ts", ...Array(9).fill("x"), "// src/store/durable-object.ts", ...Array(9).fill("x"), "// src/audit/hub/object.ts", ...Array(9).fill("x")].join("\n");
const fileOf = moduleMap(bundle);

interface Frame {
  readonly functionName: string;
  readonly line?: number;
  readonly url?: string;
}

/**
 * A profile whose nodes are the given stacks (outermost first, under a root) sampled at
 * absolute times `at` (µs), one stack index per sample.
 */
function profile(stacks: readonly (readonly Frame[])[], samples: readonly [number, number][], startTime: number, endTime: number) {
  const nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children: number[] }[] = [
    { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, children: [] },
  ];
  const leaf: number[] = [];
  for (const stack of stacks) {
    let parent = nodes[0];
    for (const f of stack) {
      const node = { id: nodes.length + 1, callFrame: { functionName: f.functionName, url: f.url ?? (f.line === undefined ? "" : "worker.js"), lineNumber: f.line ?? -1 }, children: [] };
      parent?.children.push(node.id);
      nodes.push(node);
      parent = node;
    }
    leaf.push(parent?.id ?? 1);
  }
  const ids = samples.map(([, stack]) => leaf[stack] ?? 1);
  const deltas = samples.map(([t], i) => t - (i === 0 ? startTime : (samples[i - 1]?.[0] ?? startTime)));
  return { nodes, startTime, endTime, samples: ids, timeDeltas: deltas };
}

describe("the stage table's attribution across isolates", () => {
  const screen = [{ functionName: "screen", line: 3 }];
  const find = [{ functionName: "observe", line: 12 }, { functionName: "hit", line: 13 }, { functionName: "find", line: 14 }];
  const exec = [{ functionName: "alarm", line: 15 }, { functionName: "insertRows", line: 16 }, { functionName: "exec" }];
  const hub = [{ functionName: "ingest", line: 22 }];

  it("gives each sample the time until the next sample of any isolate, not of its own profile", () => {
    // The worker runs 100-300 and 600-700, the store object 300-600.
    const worker = profile([screen], [[100, 0], [200, 0], [600, 0]], 100, 700);
    const store = profile([find, exec], [[300, 0], [400, 1], [500, 1]], 100, 700);
    const us = attributeIsolates([{ isolate: "worker", profile: worker }, { isolate: "store", profile: store }], fileOf);
    expect(us.get("screen")).toBe(300);
    expect(us.get("store object: lookups (slots, find, keep, drop)")).toBe(100);
    // A native frame with no stage counts for its caller: SQLite's exec under the flush.
    expect(us.get("store object: flush, sweep, eviction (SQLite, alarm)")).toBe(200);
    expect(Object.fromEntries(us.byIsolate)).toEqual({ worker: 300, store: 300 });
    expect(us.window_us).toBe(600);
  });

  it("counts only the window every profile covers", () => {
    // The hub's profile started later and stopped sooner: nothing before 250 or after 650 counts.
    const worker = profile([screen], [[100, 0], [200, 0], [600, 0]], 100, 700);
    const hubProfile = profile([hub], [[300, 0], [400, 0]], 250, 650);
    const us = attributeIsolates([{ isolate: "worker", profile: worker }, { isolate: "audit", profile: hubProfile }], fileOf);
    // worker 250-300 and 600-650, the hub 300-600 (until the worker's next sample).
    expect(us.get("screen")).toBe(100);
    expect(us.get("audit hub: ingest, metrics, sweep (src/audit/hub and callees)")).toBe(300);
    expect(us.window_us).toBe(400);
  });

  it("puts what an interval holds beyond maxGap in a row of its own", () => {
    const worker = profile([screen], [[100, 0], [200, 0], [1200, 0]], 100, 1300);
    const us = attributeIsolates([{ isolate: "worker", profile: worker }], fileOf, { maxGap: 150 });
    expect(us.get("screen")).toBe(100 + 150 + 100);
    expect(us.get("runtime: between samples (outside every isolate, or preempted)")).toBe(850);
  });

  it("keeps the runtime's rows apart per isolate, and leaves idle out of the stages", () => {
    const worker = profile([[{ functionName: "(program)" }], [{ functionName: "(idle)" }]], [[0, 0], [100, 1]], 0, 200);
    const store = profile([[{ functionName: "(garbage collector)" }]], [[50, 0]], 0, 200);
    const us = attributeIsolates([{ isolate: "worker", profile: worker }, { isolate: "store", profile: store }], fileOf);
    expect(us.get("runtime: (program)")).toBe(50);
    expect(us.get("store object runtime: garbage collector")).toBe(50);
    expect(us.get("idle")).toBe(100);
    const order = rowOrder(["worker", "store", "audit"]);
    expect(order).toContain("store object runtime: garbage collector");
    expect(order).toContain("audit hub runtime: (program)");
    expect(order.at(-1)).toBe("runtime: between samples (outside every isolate, or preempted)");
  });
});

describe("per-thread CPU", () => {
  it("sums by thread name and counts a thread started in between from zero", () => {
    const before = new Map([
      ["10", { name: "workerd", us: 1_000 }],
      ["11", { name: "V8 DefaultWorke", us: 50 }],
    ]);
    const after = new Map([
      ["10", { name: "workerd", us: 4_000 }],
      ["11", { name: "V8 DefaultWorke", us: 80 }],
      ["12", { name: "v8:ProfEvntProc", us: 700 }],
      ["13", { name: "v8:ProfEvntProc", us: 300 }],
    ]);
    expect(Object.fromEntries(threadDeltas(before, after))).toEqual({ workerd: 3_000, "V8 DefaultWorke": 30, "v8:ProfEvntProc": 1_000 });
  });
});
