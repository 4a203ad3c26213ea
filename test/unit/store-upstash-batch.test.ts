import fc from "fast-check";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { StoreError, type ObserveRequest } from "../../src/store/port.ts";
import { storeErrorFrom } from "../../src/store/upstash.ts";
import { historyCall, observeCall, parseObserve, parseTallies, tallyCall } from "../../src/store/upstash-batch.ts";
import { HISTORY_SCRIPT, LIFT_SCRIPT, OBSERVE_SCRIPT, PENALIZE_SCRIPT, ROSTER_SCRIPT, TALLY_SCRIPT } from "../../src/store/upstash-scripts.ts";
import { RedisReplyError } from "../../src/store/upstash-rest.ts";

const W = 60_000;
const T = 1_800_000_000_000 - (1_800_000_000_000 % W);
const policy = { baseMs: 1000, factor: 2, maxMs: 8000, decayMs: W };
const request: ObserveRequest = {
  now: T + W / 2,
  hits: [{ key: "v:ip:abc", windowMs: W }],
  distinct: [{ key: "d:ip:account:abc", member: "acct1", windowMs: W }],
  historyKey: "h:acct1",
  penalties: [{ key: "p:ip:abc", policy, cache: false }],
};
const bucket = (T + W / 2) / W - 0.5;

describe("Upstash scripts", () => {
  it.each([OBSERVE_SCRIPT, HISTORY_SCRIPT, PENALIZE_SCRIPT, TALLY_SCRIPT, LIFT_SCRIPT, ROSTER_SCRIPT])("$name has its SHA-1 pinned", (script) => {
    expect(createHash("sha1").update(script.source).digest("hex")).toBe(script.sha1);
  });

  it.each([OBSERVE_SCRIPT, HISTORY_SCRIPT, PENALIZE_SCRIPT, TALLY_SCRIPT, LIFT_SCRIPT, ROSTER_SCRIPT])("$name asks Upstash for key-level locking", (script) => {
    expect(script.source.startsWith("#!lua flags=allow-key-locking\n")).toBe(true);
  });
});

describe("Upstash batch layout", () => {
  it("puts every key in KEYS, in the order the script reads them", () => {
    const call = observeCall(request);
    expect(call?.keys).toEqual([
      `rg:w:${W}:v:ip:abc:${bucket}`,
      `rg:w:${W}:v:ip:abc:${bucket - 1}`,
      `rg:d:${W}:d:ip:account:abc:${bucket}`,
      `rg:d:${W}:d:ip:account:abc:${bucket - 1}`,
      "rg:h:h:acct1:dev",
      "rg:h:h:acct1:cc",
      "rg:h:h:acct1:asn",
      "rg:h:h:acct1:last",
      "rg:h:h:acct1:tag",
      "rg:p:p:ip:abc",
    ]);
    expect(call?.args).toEqual([
      ...["1", "1", "1", "1", "20", "0", String(T + W / 2), "0"],
      ...[String((bucket + 2) * W + 1000), "acct1", String((bucket + 2) * W + 1000)],
    ]);
  });

  it("puts rate limits last: their buckets in KEYS, limit, window and expiry in ARGV", () => {
    const call = observeCall({ now: T, hits: [], distinct: [], historyKey: null, limits: [{ key: "k", limit: 5, windowMs: W, cache: false }] });
    const b = T / W;
    // Decided in the script, so a request with only rate limits still runs it.
    expect(call?.keys).toEqual([`rg:rl:5:${W}:k:${b}`, `rg:rl:5:${W}:k:${b - 1}`]);
    expect(call?.args).toEqual(["0", "0", "0", "0", "20", "1", String(T), "0", "5", String(W), String((b + 2) * W + 1000)]);
  });

  it("asks the roster last: its bucket and the marker in KEYS, the field in ARGV", () => {
    const key = "AbCdefghijklmnopqrstuv";
    const call = observeCall({ now: T, hits: [], distinct: [], historyKey: null, rosterKey: key });
    expect(call?.keys).toEqual(["rg:r:AbC", "rg:r:loaded"]);
    expect(call?.args).toEqual(["0", "0", "0", "0", "20", "0", String(T), "1", "defghijklmnopqrstuv"]);
  });

  it.each([
    ["no marker: off", [false, 1], "off"],
    ["loaded, in the bucket", [String(T), 1], "listed"],
    ["loaded, not in the bucket", [String(T), 0], "absent"],
  ])("reads the roster answer (%s)", (_label, roster, answer) => {
    const asked = { now: T, hits: [], distinct: [], historyKey: null, rosterKey: "AbCdefghijklmnopqrstuv" };
    expect(parseObserve(asked, [[], [], [], [], [], roster]).roster).toBe(answer);
  });

  it("refuses a roster marker that is not a time", () => {
    const asked = { now: T, hits: [], distinct: [], historyKey: null, rosterKey: "AbCdefghijklmnopqrstuv" };
    expect(() => parseObserve(asked, [[], [], [], [], [], ["soon", 1]])).toThrow(StoreError);
  });

  it("skips the script when nothing is asked for", () => {
    expect(observeCall({ now: T, hits: [], distinct: [], historyKey: null, limits: [] })).toBeNull();
  });

  it.each([
    ["no tag", {}, ["", ""]],
    ["a set tag", { privileged: { value: true, at: T + 5 } }, ["1", String(T + 5)]],
    ["a cleared tag", { privileged: { value: false, at: T + 6 } }, ["0", String(T + 6)]],
  ])("marks absent history fields with empty strings (%s)", (_label, tag, tagArgs) => {
    const call = historyCall({ historyKey: "h:a", device: null, country: "DE", asn: null, location: null, at: T, ...tag });
    expect(call.keys.at(-1)).toBe("rg:h:h:a:tag");
    expect(call.args.slice(3)).toEqual(["", "DE", "", "", "", ...tagArgs]);
  });

  it("adds the event marker key only for an event id", () => {
    const base = { experiment: "e", arm: "a", now: T, add: { sent: 1 } };
    expect(tallyCall({ ...base, eventKey: null }).keys).toEqual(["rg:t:e"]);
    expect(tallyCall({ ...base, eventKey: "ev" }).keys).toEqual(["rg:t:e", "rg:te:e:ev"]);
  });
});

describe("Upstash reply parsing", () => {
  const good = [[[2, 3]], [5], [["dev1"], ["DE", "FR"], ["3320"], ["52.5", "13.4", String(T)], [null]], [["2", String(T + W)]], []];

  it("turns a well-formed reply into the port's answer", () => {
    expect(parseObserve(request, good)).toEqual({
      counts: [2 + 1], // 2 current + floor(3 * 0.5)
      distinct: [5],
      history: { devices: ["dev1"], countries: ["DE", "FR"], asns: [3320], lastVerified: { lat: 52.5, lon: 13.4, at: T }, privileged: false },
      penalties: [{ level: 2, until: T + W }],
      limits: [],
    });
  });

  it("reads rate-limit verdicts: consumed with what remains, or refused without consuming", () => {
    const limited: ObserveRequest = {
      ...request,
      limits: [
        { key: "a", limit: 10, windowMs: W, cache: false },
        { key: "b", limit: 4, windowMs: W, cache: true },
      ],
    };
    const reply = [...good.slice(0, 4), [[1, 3, 2], [0, 3, 1]]];
    expect(parseObserve(limited, reply).limits).toEqual([
      { success: true, remaining: 10 - (3 + 2), reset: T + W },
      { success: false, remaining: 0, reset: T + W },
    ]);
    expect(() => parseObserve(limited, [...good.slice(0, 4), [[1, 3, 2]]])).toThrow(StoreError);
  });

  it.each([
    ["no tag", [null], null],
    ["a cleared tag", ["0"], null],
    ["a set tag", ["1"], { devices: [], countries: [], asns: [], lastVerified: null, privileged: true }],
  ])("reads empty history as none unless the origin tagged it privileged (%s)", (_label, tag, history) => {
    const empty = [[[1, 0]], [1], [[], [], [], [null, null, null], tag], [[null, null]], []];
    expect(parseObserve(request, empty)).toMatchObject({ history, penalties: [{ level: 0, until: 0 }] });
  });

  it.each([
    ["not an array", "OK"],
    ["a count that is not a number", [[["x", 0]], [5], [], [[null, null]]]],
    ["too few hit results", [[], [5], [], [[null, null]]]],
    ["a bad latitude", [[[1, 0]], [1], [[], [], [], ["north", "1", "1"], [null]], [[null, null]]]],
    ["a tag that is neither 1 nor 0", [[[1, 0]], [1], [[], [], [], [null, null, null], ["yes"]], [[null, null]]]],
    ["a history without its tag part", [[[1, 0]], [1], [[], [], [], [null, null, null]], [[null, null]]]],
  ])("refuses %s with STORE_BAD_RESPONSE", (_label, reply) => {
    expect(() => parseObserve(request, reply)).toThrow(StoreError);
    try {
      parseObserve(request, reply);
    } catch (err) {
      expect((err as StoreError).code).toBe("STORE_BAD_RESPONSE");
    }
  });

  it("never throws anything but a StoreError, whatever the reply", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (reply) => {
        try {
          parseObserve(request, reply);
        } catch (err) {
          return err instanceof StoreError && err.code === "STORE_BAD_RESPONSE";
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ["a flat list", ["a|sent", "2", "a|sent|20000", "2", "junk", "1"]],
    ["an object", { "a|sent": "2", "a|sent|20000": 2, junk: 1 }],
  ])("reads tallies from %s, skipping fields it did not write", (_label, reply) => {
    expect(parseTallies(reply)).toEqual([
      { arm: "a", counter: "sent", day: null, value: 2 },
      { arm: "a", counter: "sent", day: 20000, value: 2 },
    ]);
  });
});

describe("Upstash error mapping", () => {
  it.each([
    ["a StoreError as it is", new StoreError("STORE_TIMEOUT", "x"), "STORE_TIMEOUT"],
    ["a body that is not JSON (mapped by the REST client)", new StoreError("STORE_BAD_RESPONSE", "x"), "STORE_BAD_RESPONSE"],
    ["an aborted fetch", new DOMException("timed out", "TimeoutError"), "STORE_TIMEOUT"],
    ["a Redis error reply", new RedisReplyError("ERR bridge fault"), "STORE_UNAVAILABLE"],
    ["a network failure", new TypeError("fetch failed"), "STORE_UNAVAILABLE"],
  ])("maps %s", (_label, err, code) => {
    expect(storeErrorFrom(err, "observe").code).toBe(code);
  });
});
