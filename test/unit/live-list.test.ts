// The live reputation layer's pure parts: operator input, the per-isolate index, and how
// live entries add to and take from the bundled lists.
import { describe, expect, it } from "vitest";
import { accountBlock, accountTarget, canonicalTarget, displayTarget, indexLive, type LiveLift, liveEntry, matchLive, parseDuration } from "../../src/shared/live-list.ts";
import { reputationFacts } from "../../src/scoring/signals/ip-reputation.ts";
import { LiveListCache } from "../../src/scoring/signals/live-lists.ts";

const NOW = 1_800_000_000_000;
const entry = (target: string, list = "block", extra: { effect?: "add" | "remove"; expires?: string } = {}) =>
  liveEntry({ target, list, reason: "test", ...extra }, NOW);

describe("live entries", () => {
  it.each([
    ["203.0.113.7", "ip", "203.0.113.7"],
    ["203.0.113.0/24", "cidr", "203.0.113.0/24"],
    ["203.0.113.7/32", "ip", "203.0.113.7"],
    ["2001:db8::/32", "cidr", "2001:db8:0:0:0:0:0:0/32"],
    ["AS64500", "asn", "AS64500"],
    ["kp", "country", "KP"],
  ])("%s is a %s target", (raw, kind, shown) => {
    const t = canonicalTarget(raw);
    expect(t).toMatchObject({ kind });
    if (!("error" in t)) expect(displayTarget(t.target)).toBe(shown);
  });

  it("refuses host bits, junk, a missing reason and a bad expiry", () => {
    expect(canonicalTarget("203.0.113.7/24")).toHaveProperty("error");
    expect(canonicalTarget("not-an-ip")).toHaveProperty("error");
    expect(() => liveEntry({ target: "203.0.113.7", list: "block", reason: " " }, NOW)).toThrow(/reason/);
    expect(() => entry("203.0.113.7", "block", { expires: "forever" })).toThrow(/duration/);
    expect(parseDuration("12h")).toBe(12 * 3_600_000);
    expect(parseDuration("400d")).toBeNull();
  });

  it("matches addresses in a CIDR, an ASN and a country; lapsed entries do not match", () => {
    const index = indexLive([entry("203.0.113.0/24"), entry("AS64500", "known_bad"), entry("KP", "block"), entry("198.51.100.1", "block", { expires: "1m" })]);
    expect(matchLive(index, "203.0.113.200", 0, null, NOW).map((m) => m.list)).toEqual(["block"]);
    expect(matchLive(index, "203.0.114.1", 0, null, NOW)).toEqual([]);
    expect(matchLive(index, null, 64500, null, NOW).map((m) => m.list)).toEqual(["known_bad"]);
    expect(matchLive(index, null, 0, "KP", NOW).map((m) => m.list)).toEqual(["block"]);
    expect(matchLive(index, "198.51.100.1", 0, null, NOW + 30_000)).toHaveLength(1);
    expect(matchLive(index, "198.51.100.1", 0, null, NOW + 61_000)).toEqual([]);
  });

  it("adds over the bundled floor and removes from it", () => {
    const ip = { address: "203.0.113.9", version: 4 } as Parameters<typeof reputationFacts>[1];
    const added = reputationFacts(null, ip, 0, NOW, indexLive([entry("203.0.113.9", "known_bad")]));
    expect(added).toMatchObject({ known_bad: true, lists: ["known_bad"], list_reason: "test" });
    const both = indexLive([entry("203.0.113.9", "known_bad"), entry("203.0.113.0/24", "known_bad", { effect: "remove" })]);
    expect(reputationFacts(null, ip, 0, NOW, both)).toMatchObject({ known_bad: false, lists: [] });
  });
});

describe("the per-isolate cache", () => {
  it("reloads only when stale, off the request path, and keeps the old copy on failure", async () => {
    let loads = 0;
    let fail = false;
    const cache = new LiveListCache(
      async () => {
        loads++;
        if (fail) throw new Error("hub down");
        return { version: 1, entries: [entry("203.0.113.0/24")], lifts: [] };
      },
      () => {},
      10_000,
    );
    expect(cache.index).toBeNull();
    await cache.refresh(NOW);
    expect(cache.index?.size).toBe(1);
    expect(cache.refresh(NOW + 5_000)).toBeNull();
    fail = true;
    await cache.refresh(NOW + 10_000);
    expect(cache.index?.size).toBe(1);
    expect(loads).toBe(2);
    cache.set([], NOW + 11_000);
    expect(cache.index?.size).toBe(0);
  });
});

describe("the per-isolate cache and the hub's version", () => {
  it("re-indexes only when the hub's version changed, and applies each lift once", async () => {
    // The hub's side of RiskgateAuditHub.liveLayer: null when the caller holds the current version.
    let version = 1;
    let entries = [entry("203.0.113.0/24")];
    let lifts: LiveLift[] = [];
    const asked: (number | null)[] = [];
    const applied: string[] = [];
    const cache = new LiveListCache(
      async (known) => {
        asked.push(known);
        return known === version ? null : { version, entries, lifts };
      },
      (lift) => applied.push(`${lift.kind}:${lift.entity}`),
      10_000,
    );
    await cache.refresh(NOW);
    const first = cache.index;
    expect(first?.size).toBe(1);
    await cache.refresh(NOW + 10_000);
    // Unchanged: the same index object, nothing re-read.
    expect(cache.index).toBe(first);
    expect(asked).toEqual([null, 1]);

    version = 2;
    entries = [entry("203.0.113.0/24"), entry("198.51.100.0/24")];
    lifts = [{ kind: "ip", entity: "K".repeat(22), lifted_at: NOW + 15_000, expires_at: NOW + 3_600_000 }];
    await cache.refresh(NOW + 20_000);
    expect(cache.index?.size).toBe(2);
    expect(applied).toEqual([`ip:${"K".repeat(22)}`]);

    // Another write: the same lift is not applied again; a new lift of the same key is.
    version = 3;
    await cache.refresh(NOW + 30_000);
    expect(applied).toHaveLength(1);
    version = 4;
    lifts = [{ kind: "ip", entity: "K".repeat(22), lifted_at: NOW + 35_000, expires_at: NOW + 3_600_000 }];
    await cache.refresh(NOW + 40_000);
    expect(applied).toHaveLength(2);
    expect(asked).toEqual([null, 1, 1, 2, 3]);

    // An admin write in this isolate replaces the copy; the next reload reads the layer in full.
    cache.set([], NOW + 41_000);
    await cache.refresh(NOW + 51_000);
    expect(asked.at(-1)).toBeNull();
    expect(cache.index?.size).toBe(2);
    expect(applied).toHaveLength(2);
  });
});

describe("account blocks", () => {
  const key = "A".repeat(22);
  const entry = (over: Partial<{ list: string; expires: string }> = {}) =>
    liveEntry({ target: "", list: over.list ?? "block", reason: "takeover", expires: over.expires ?? null }, 1000, accountTarget(key));

  it("match the account key until they lapse; other keys and IP lookups are untouched", () => {
    const index = indexLive([entry({ expires: "1h" })]);
    expect(accountBlock(index, key, 2000)).toMatchObject({ list: "block", reason: "takeover" });
    expect(accountBlock(index, "B".repeat(22), 2000)).toBeNull();
    expect(accountBlock(index, key, 1000 + 3_600_000)).toBeNull();
    expect(matchLive(index, "203.0.113.7", 64500, "KP", 2000)).toEqual([]);
  });

  it("go on the block list only", () => {
    expect(() => entry({ list: "allow" })).toThrow(/block/);
  });
});
