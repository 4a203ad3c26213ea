// The store contract: one suite, run against both adapters (Durable Object and Upstash
// through the bridge in front of real Redis). Expected numbers are worked out by hand
// here, not taken from src/store/window.ts, so the arithmetic itself is under test.
// Time is controlled through the request's `now`; rate limits on Upstash read the clock
// (@upstash/ratelimit uses Date.now()), so those tests fake Date to the same instant.
import { afterEach, describe, expect, it, vi } from "vitest";
import { HISTORY_RETENTION_MS, type PenaltyPolicy } from "../../src/store/port.ts";
import { alignedFuture, harnesses, uniqueKey } from "./store-harness.ts";

const MIN = 60_000;
const nothing = { hits: [], distinct: [], historyKey: null } as const;

afterEach(() => {
  vi.useRealTimers();
});

describe.each(harnesses)("store contract: $name", (harness) => {
  const run = harness.unavailable === "" ? it : it.skip;
  const store = () => harness.make();

  run("counts hits on a sliding window: current bucket plus the weighted previous one", async () => {
    const s = store();
    const key = uniqueKey("w");
    const t0 = alignedFuture();
    const hit = async (now: number) => (await s.observe({ ...nothing, now, hits: [{ key, windowMs: MIN }] })).counts[0];
    const seen = [];
    for (const offset of [0, 1000, 59_999]) seen.push(await hit(t0 + offset));
    expect(seen).toEqual([1, 2, 3]);
    // Half-way through the next bucket: 1 new + floor(3 * 0.5) = 2.
    expect(await hit(t0 + MIN + 30_000)).toBe(2);
    // Three quarters into the bucket after: 1 + floor(1 * 0.25) = 1.
    expect(await hit(t0 + 2 * MIN + 45_000)).toBe(1);
    // Far later: nothing left of the past.
    expect(await hit(t0 + 10 * MIN)).toBe(1);
  });

  run("keeps windows and keys apart", async () => {
    const s = store();
    const [a, b] = [uniqueKey("a"), uniqueKey("b")];
    const now = alignedFuture();
    const request = { ...nothing, now, hits: [{ key: a, windowMs: MIN }, { key: a, windowMs: 10 * MIN }, { key: b, windowMs: MIN }] };
    await s.observe(request);
    const second = await s.observe({ ...request, hits: [...request.hits, { key: a, windowMs: MIN }] });
    // The same key twice in one batch counts twice, in order.
    expect(second.counts).toEqual([2, 2, 2, 3]);
  });

  run("loses no counts under parallel hits", async () => {
    const s = store();
    const key = uniqueKey("p");
    const now = alignedFuture();
    const results = await Promise.all(
      Array.from({ length: 40 }, () => s.observe({ ...nothing, now, hits: [{ key, windowMs: MIN }] })),
    );
    const counts = results.map((r) => r.counts[0]).sort((x = 0, y = 0) => x - y);
    expect(counts).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  run.each([
    ["already expired", -10 * MIN, [1, 1], [0, 0]],
    ["still live", 0, [1, 2], [1, 1]],
  ])("forgets data past its expiry (%s)", async (_label, age, hits, distinct) => {
    const s = store();
    const key = uniqueKey("ttl");
    const now = Date.now() + age;
    const request = { ...nothing, now, hits: [{ key, windowMs: MIN }], distinct: [{ key, member: "m1", windowMs: MIN }] };
    const first = await s.observe(request);
    const second = await s.observe(request);
    expect([first.counts[0], second.counts[0]]).toEqual(hits);
    expect([first.distinct[0], second.distinct[0]]).toEqual(distinct);
  });

  run("counts distinct members over the current and previous bucket", async () => {
    const s = store();
    const key = uniqueKey("d");
    const t0 = alignedFuture();
    const add = async (now: number, member: string) =>
      (await s.observe({ ...nothing, now, distinct: [{ key, member, windowMs: MIN }] })).distinct[0];
    expect(await add(t0, "a")).toBe(1);
    expect(await add(t0 + 1, "a")).toBe(1);
    expect(await add(t0 + 2, "b")).toBe(2);
    expect(await add(t0 + MIN + 1, "a")).toBe(2); // previous bucket still counts
    expect(await add(t0 + 3 * MIN, "c")).toBe(1); // both old buckets are gone
  });

  run("counts the union of the buckets when either holds a single member", async () => {
    const s = store();
    const key = uniqueKey("d1");
    const t0 = alignedFuture();
    const add = async (now: number, member: string) =>
      (await s.observe({ ...nothing, now, distinct: [{ key, member, windowMs: MIN }] })).distinct[0];
    expect(await add(t0, "a")).toBe(1);
    expect(await add(t0 + MIN + 1, "a")).toBe(1); // one member in each bucket, the same one
    const other = uniqueKey("d2");
    const addOther = async (now: number, member: string) =>
      (await s.observe({ ...nothing, now, distinct: [{ key: other, member, windowMs: MIN }] })).distinct[0];
    expect(await addOther(t0, "a")).toBe(1);
    expect(await addOther(t0 + MIN + 1, "b")).toBe(2); // one member each, different
    expect(await addOther(t0 + MIN + 2, "a")).toBe(2); // the current bucket now holds both
    expect(await addOther(t0 + MIN + 3, "c")).toBe(3);
    expect(await addOther(t0 + 2 * MIN + 1, "d")).toBe(4); // previous {a, b, c}, current {d}
    expect(await addOther(t0 + 2 * MIN + 2, "b")).toBe(4);
  });

  run("estimates a large distinct count within HyperLogLog's error bound", async () => {
    const s = store();
    const key = uniqueKey("hll");
    const now = alignedFuture();
    let last = 0;
    for (let batch = 0; batch < 10; batch++) {
      const distinct = Array.from({ length: 100 }, (_, i) => ({ key, member: `member-${batch * 100 + i}`, windowMs: MIN }));
      const result = await s.observe({ ...nothing, now, distinct });
      last = result.distinct.at(-1) ?? 0;
    }
    // Redis HLL: 0.81% standard error; 3 sigma is about 25 of 1000.
    expect(Math.abs(last - 1000)).toBeLessThanOrEqual(25);
  });

  run("keeps account history: newest first, de-duplicated, capped, last location by time", async () => {
    const s = store();
    const historyKey = uniqueKey("h");
    const now = alignedFuture();
    const none = { device: null, country: null, asn: null, location: null };
    expect((await s.observe({ ...nothing, now, historyKey })).history).toBeNull();
    await s.recordHistory({ ...none, historyKey, device: "dev-a", country: "DE", asn: 3320, location: { lat: 52.52, lon: 13.405 }, at: now - 3000 });
    await s.recordHistory({ ...none, historyKey, device: "dev-b", country: "FR", at: now - 2000 });
    await s.recordHistory({ ...none, historyKey, device: "dev-a", location: { lat: 48.8566, lon: 2.3522 }, at: now - 1000 });
    // An older outcome arriving late does not move the last verified location back.
    await s.recordHistory({ ...none, historyKey, location: { lat: 1, lon: 1 }, at: now - 5000 });
    for (let i = 0; i < 25; i++) await s.recordHistory({ ...none, historyKey, asn: 64_500 + i, at: now + i });
    const { history } = await s.observe({ ...nothing, now, historyKey });
    expect(history?.devices).toEqual(["dev-a", "dev-b"]);
    expect(history?.countries).toEqual(["FR", "DE"]);
    expect(history?.asns).toHaveLength(20);
    expect(history?.asns[0]).toBe(64_524);
    expect(history?.asns).not.toContain(3320);
    expect(history?.lastVerified).toEqual({ lat: 48.8566, lon: 2.3522, at: now - 1000 });
  });

  run("an older outcome arriving late never shortens the history's life", async () => {
    const s = store();
    const historyKey = uniqueKey("h-late");
    const none = { device: null, country: null, asn: null, location: null };
    const learned = Date.now();
    await s.recordHistory({ ...none, historyKey, country: "DE", at: learned });
    // A report about a decision older than the retention arrives now: on its own it would expire at once.
    await s.recordHistory({ ...none, historyKey, country: "FR", privileged: { value: false, at: learned }, at: learned - HISTORY_RETENTION_MS - MIN });
    const { history } = await s.observe({ ...nothing, now: Date.now() + 1000, historyKey });
    expect(history?.countries).toContain("DE");
    expect(history?.privileged).toBe(false);
  });

  run("keeps the origin's privileged tag: the latest statement wins, whatever the arrival order", async () => {
    const s = store();
    const [historyKey, other] = [uniqueKey("tag"), uniqueKey("tag-other")];
    const now = alignedFuture();
    const none = { device: null, country: null, asn: null, location: null, at: now };
    const read = async (key: string) => (await s.observe({ ...nothing, now, historyKey: key })).history;
    await s.recordHistory({ ...none, historyKey, privileged: { value: true, at: now } });
    // A tag alone is a history (nothing learned, but privileged); other accounts are untouched.
    expect(await read(historyKey)).toEqual({ devices: [], countries: [], asns: [], lastVerified: null, privileged: true });
    expect(await read(other)).toBeNull();
    // An update without a tag leaves it as it is.
    await s.recordHistory({ ...none, historyKey, country: "DE" });
    expect((await read(historyKey))?.privileged).toBe(true);
    // An older statement arriving late changes nothing; a newer one clears the tag.
    await s.recordHistory({ ...none, historyKey, privileged: { value: false, at: now - 1000 } });
    expect((await read(historyKey))?.privileged).toBe(true);
    await s.recordHistory({ ...none, historyKey, privileged: { value: false, at: now + 1000 } });
    expect(await read(historyKey)).toMatchObject({ countries: ["DE"], privileged: false });
    await s.recordHistory({ ...none, historyKey, privileged: { value: true, at: now + 500 } });
    expect((await read(historyKey))?.privileged).toBe(false);
    // Equal times: the statement applied last wins (so a retried report is harmless).
    await s.recordHistory({ ...none, historyKey, privileged: { value: true, at: now + 1000 } });
    expect((await read(historyKey))?.privileged).toBe(true);
    // Set, then cleared, with nothing learned: no history at all.
    await s.recordHistory({ ...none, historyKey: other, privileged: { value: true, at: now } });
    await s.recordHistory({ ...none, historyKey: other, privileged: { value: false, at: now + 1 } });
    expect(await read(other)).toBeNull();
  });

  run("keeps a set privileged tag past the history's retention, and forgets a cleared one with it", async () => {
    const s = store();
    const [kept, gone] = [uniqueKey("tag-kept"), uniqueKey("tag-gone")];
    const now = alignedFuture();
    // Stated (and learned) longer ago than the retention: the learned part has expired.
    const old = Date.now() - HISTORY_RETENTION_MS - MIN;
    const update = { device: null, country: "DE", asn: null, location: null, at: old };
    await s.recordHistory({ ...update, historyKey: kept, privileged: { value: true, at: old } });
    await s.recordHistory({ ...update, historyKey: gone, privileged: { value: false, at: old } });
    const read = async (key: string) => (await s.observe({ ...nothing, now, historyKey: key })).history;
    expect(await read(kept)).toEqual({ devices: [], countries: [], asns: [], lastVerified: null, privileged: true });
    expect(await read(gone)).toBeNull();
  });

  run("applies sliding-window rate limits: fail without consuming, reset at the window end", async () => {
    const s = store();
    const key = uniqueKey("rl");
    const t0 = alignedFuture();
    vi.useFakeTimers({ toFake: ["Date"], now: t0 });
    const check = { key, limit: 3, windowMs: MIN, cache: false };
    const once = async (now: number) => {
      vi.setSystemTime(now);
      return (await s.observe({ ...nothing, now, limits: [check] })).limits[0];
    };
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await once(t0 + i));
    expect(results.map((r) => r?.success)).toEqual([true, true, true, false]);
    expect(results.map((r) => r?.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[3]?.reset).toBe(t0 + MIN);
    // Half-way into the next window: floor(3 * 0.5) = 1 carried over, so 1 + 1 used.
    expect(await once(t0 + MIN + 30_000)).toEqual({ success: true, remaining: 1, reset: t0 + 2 * MIN });
  });

  run("answers a cached hard limit from the isolate, without touching the store", async () => {
    const s = store();
    const key = uniqueKey("rlc");
    const now = alignedFuture();
    vi.useFakeTimers({ toFake: ["Date"], now });
    const hard = { key, limit: 1, windowMs: MIN, cache: true };
    const hitKey = uniqueKey("w");
    const request = { ...nothing, now, hits: [{ key: hitKey, windowMs: MIN }], limits: [hard] };
    expect((await s.observe(request)).limits[0]?.success).toBe(true);
    const failed = await s.observe(request);
    expect(failed.limits[0]?.success).toBe(false);
    expect(failed.blocked).toBeNull();
    const blocked = await s.observe(request);
    expect(blocked.blocked).toEqual({ key, kind: "rate-limit", until: now + MIN });
    expect(blocked.counts).toEqual([]);
    // The cached request counted nothing: the window saw exactly two hits.
    const after = await s.observe({ ...nothing, now, hits: [{ key: hitKey, windowMs: MIN }] });
    expect(after.counts).toEqual([3]);
  });

  const policy: PenaltyPolicy = { baseMs: 1000, factor: 2, maxMs: 8000, decayMs: MIN };

  run("escalates penalties exponentially up to the cap, and decays them after good behaviour", async () => {
    const s = store();
    const key = uniqueKey("pen");
    const t0 = alignedFuture();
    const states = [];
    for (let i = 0; i < 5; i++) states.push(await s.penalize({ key, now: t0 + i * 10, policy }));
    expect(states).toEqual([
      { level: 1, until: t0 + 1000 },
      { level: 2, until: t0 + 10 + 2000 },
      { level: 3, until: t0 + 20 + 4000 },
      { level: 4, until: t0 + 30 + 8000 },
      { level: 5, until: t0 + 40 + 8000 },
    ]);
    const read = async (now: number) =>
      (await s.observe({ ...nothing, now, penalties: [{ key, policy, cache: false }] })).penalties[0];
    const end = t0 + 40 + 8000;
    expect(await read(t0 + 100)).toEqual({ level: 5, until: end });
    // Two decay periods after the box ended: two levels forgotten, not boxed.
    expect(await read(end + 2 * MIN + 1)).toEqual({ level: 3, until: 0 });
    // The next violation starts from the decayed level.
    expect(await s.penalize({ key, now: end + 2 * MIN + 1, policy })).toEqual({ level: 4, until: end + 2 * MIN + 1 + 8000 });
    // A key never penalised reads as level 0.
    expect(await s.observe({ ...nothing, now: t0, penalties: [{ key: uniqueKey("none"), policy, cache: false }] })).toMatchObject({
      penalties: [{ level: 0, until: 0 }],
    });
  });

  run("answers a cached penalty box from the isolate", async () => {
    const s = store();
    const key = uniqueKey("box");
    const now = alignedFuture();
    const boxed = await s.penalize({ key, now, policy });
    const check = { ...nothing, now: now + 1, penalties: [{ key, policy, cache: true }] };
    expect((await s.observe(check)).penalties).toEqual([boxed]);
    expect((await s.observe(check)).blocked).toEqual({ key, kind: "penalty", until: boxed.until });
    // Once the box has ended the cache no longer answers.
    const later = await s.observe({ ...check, now: boxed.until });
    expect(later.blocked).toBeNull();
    expect(later.penalties).toEqual([{ level: 1, until: 0 }]);
  });

  run("lifts a penalty box: the box, its level, the ladder's windows and the isolate's cache are gone", async () => {
    const s = store();
    const key = uniqueKey("lift");
    const other = uniqueKey("keep");
    const t0 = alignedFuture();
    vi.useFakeTimers({ toFake: ["Date"], now: t0 });
    const hard = { key: uniqueKey("rll"), limit: 2, windowMs: MIN, cache: true };
    const request = { ...nothing, now: t0, limits: [hard], penalties: [{ key, policy, cache: true }] };
    // Exhaust the step and box the key twice (level 2), then see the isolate answer from its cache.
    expect((await s.observe(request)).limits[0]?.success).toBe(true);
    expect((await s.observe(request)).limits[0]?.success).toBe(true);
    expect((await s.observe(request)).limits[0]?.success).toBe(false);
    await s.penalize({ key, now: t0, policy });
    const boxed = await s.penalize({ key, now: t0 + 1, policy });
    await s.penalize({ key: other, now: t0, policy });
    expect((await s.observe({ ...request, now: t0 + 2 })).blocked).toMatchObject({ key: hard.key, kind: "rate-limit" });

    const lift = { now: t0 + 2, penalties: [key], limits: [{ key: hard.key, limit: hard.limit, windowMs: hard.windowMs }] };
    expect(await s.liftPenalty(lift)).toBe(1);
    // The next request goes to the store, finds no box, no level and a fresh window.
    const after = await s.observe({ ...request, now: t0 + 3 });
    expect(after.blocked).toBeNull();
    expect(after.penalties).toEqual([{ level: 0, until: 0 }]);
    expect(after.limits[0]).toMatchObject({ success: true, remaining: 1 });
    // Another key's box is untouched; lifting what is not boxed counts nothing.
    expect((await s.observe({ ...nothing, now: t0 + 3, penalties: [{ key: other, policy, cache: false }] })).penalties).toEqual([
      { level: 1, until: t0 + 1000 },
    ]);
    expect(await s.liftPenalty({ ...lift, now: boxed.until })).toBe(0);
    expect(await s.liftPenalty({ now: t0, penalties: [], limits: [] })).toBe(0);
  });

  run("tallies experiment counters once per event, in totals and per day", async () => {
    const s = store();
    const experiment = uniqueKey("exp").replace(/[^a-z0-9_.-]/g, "");
    const now = alignedFuture() + 3600_000;
    const day = Math.floor(now / 86_400_000);
    expect(await s.tally({ experiment, arm: "sms", now, add: { sent: 1, cost_micros: 7500 }, eventKey: "ev1" })).toBe(true);
    expect(await s.tally({ experiment, arm: "sms", now, add: { sent: 1, cost_micros: 7500 }, eventKey: "ev1" })).toBe(false);
    expect(await s.tally({ experiment, arm: "email", now, add: { exposures: 2 }, eventKey: null })).toBe(true);
    expect(await s.tally({ experiment, arm: "email", now: now + 86_400_000, add: { exposures: 1 }, eventKey: null })).toBe(true);
    expect(await s.readTallies(experiment)).toEqual([
      { arm: "email", counter: "exposures", day: null, value: 3 },
      { arm: "email", counter: "exposures", day, value: 2 },
      { arm: "email", counter: "exposures", day: day + 1, value: 1 },
      { arm: "sms", counter: "cost_micros", day: null, value: 7500 },
      { arm: "sms", counter: "cost_micros", day, value: 7500 },
      { arm: "sms", counter: "sent", day: null, value: 1 },
      { arm: "sms", counter: "sent", day, value: 1 },
    ]);
    expect(await s.readTallies(`${experiment}-none`)).toEqual([]);
  });

  run.each([
    ["a name outside the alphabet", { arm: "SMS|x", add: { sent: 1 } }],
    ["a fractional amount", { arm: "sms", add: { cost: 0.01 } }],
  ])("rejects a tally with %s before it reaches the store", async (_label, bad) => {
    await expect(store().tally({ experiment: "e1", now: Date.now(), eventKey: null, ...bad })).rejects.toThrow(RangeError);
  });

  run("rejects reading tallies of an experiment name outside the alphabet", async () => {
    await expect(store().readTallies("exp:*")).rejects.toThrow(RangeError);
  });

  // The account roster (POST /v1/accounts). The marker is global to the store, so each
  // test turns it off again before it ends: other suites' resets share this Redis.
  const rosterKey = () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const lookup = async (s: ReturnType<typeof store>, key: string) => (await s.observe({ ...nothing, now: Date.now(), rosterKey: key })).roster;

  run("answers the roster as off until the origin marks it loaded, then listed or absent", async () => {
    const s = harness.make({ shards: 4 });
    const [member, stranger] = [rosterKey(), rosterKey()];
    try {
      const added = await s.updateRoster({ add: [member], remove: [], loaded: null, at: 1_000 });
      expect(added.loaded).toBe(false);
      // Not loaded yet: even a listed account reads off, so nothing can be denied on it.
      expect([await lookup(s, member), await lookup(s, stranger)]).toEqual(["off", "off"]);
      const at = Date.now();
      expect(await s.updateRoster({ add: [], remove: [], loaded: true, at })).toEqual({ loaded: true, loadedAt: at });
      expect([await lookup(s, member), await lookup(s, stranger)]).toEqual(["listed", "absent"]);
      // Idempotent: the same statement again changes nothing; removal makes it absent.
      await s.updateRoster({ add: [member], remove: [], loaded: null, at });
      expect(await lookup(s, member)).toBe("listed");
      await s.updateRoster({ add: [stranger], remove: [member], loaded: null, at });
      expect([await lookup(s, member), await lookup(s, stranger)]).toEqual(["absent", "listed"]);
      // Turned off: every lookup is off again, whatever the roster holds.
      expect(await s.updateRoster({ add: [], remove: [], loaded: false, at })).toEqual({ loaded: false, loadedAt: null });
      expect([await lookup(s, member), await lookup(s, stranger)]).toEqual(["off", "off"]);
    } finally {
      await s.updateRoster({ add: [], remove: [], loaded: false, at: 0 });
    }
  });

  run("answers the roster in the same call as the counts, and only when asked", async () => {
    const s = store();
    const key = rosterKey();
    const now = alignedFuture();
    const hit = uniqueKey("rh");
    try {
      await s.updateRoster({ add: [key], remove: [], loaded: true, at: Date.now() });
      const both = await s.observe({ ...nothing, now, hits: [{ key: hit, windowMs: MIN }], rosterKey: key });
      expect({ counts: both.counts, roster: both.roster }).toEqual({ counts: [1], roster: "listed" });
      const without = await s.observe({ ...nothing, now, hits: [{ key: hit, windowMs: MIN }] });
      expect(without.roster).toBeUndefined();
    } finally {
      await s.updateRoster({ add: [], remove: [], loaded: false, at: 0 });
    }
  });
});
