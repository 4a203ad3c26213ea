// The source parsing shared by `lists update` and the scheduled refresh (src/shared/list-sources.ts).
import { describe, expect, it } from "vitest";
import { parseRange } from "../../src/shared/ip-key.ts";
import { goDurationMs, parseCrowdsecStream, rangeCidrs, withoutExcluded } from "../../src/shared/list-sources.ts";

const range = (text: string) => {
  const r = parseRange(text, false);
  if ("error" in r) throw new Error(r.error);
  return r;
};

describe("list sources", () => {
  it("reads Go durations as LAPI writes them", () => {
    expect(goDurationMs("3h59m12.5s")).toBe(3 * 3_600_000 + 59 * 60_000 + 12_500);
    expect(goDurationMs("150ms")).toBe(150);
    expect(goDurationMs("-1.5s")).toBe(-1500);
    expect(goDurationMs("4 hours")).toBeNull();
    expect(goDurationMs("")).toBeNull();
  });

  it("splits a range that is not a CIDR into its blocks", () => {
    expect(rangeCidrs(range("192.0.2.1-192.0.2.6"))).toEqual(["192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/31", "192.0.2.6/32"]);
    expect(rangeCidrs(range("198.51.100.0/24"))).toEqual(["198.51.100.0/24"]);
  });

  it("drops entries that overlap an excluded range, either way round", () => {
    const { kept, excluded } = withoutExcluded([range("17.1.0.0/16"), range("16.0.0.0/7"), range("192.0.2.1")], [range("17.0.0.0/8")]);
    expect(kept).toEqual([range("192.0.2.1")]);
    expect(excluded).toBe(2);
  });

  it("takes IP and range bans from a decision stream and refuses what is not one", () => {
    const delta = parseCrowdsecStream(
      JSON.stringify({
        new: [
          { duration: "1h", origin: "crowdsec", scenario: "s", scope: "Ip", type: "ban", value: "192.0.2.5" },
          { duration: "1h", origin: "crowdsec", scenario: "s", scope: "Range", type: "ban", value: "198.51.100.0/24" },
          { duration: "1h", origin: "crowdsec", scenario: "s", scope: "Ip", type: "captcha", value: "192.0.2.6" },
          { duration: "1h", origin: "crowdsec", scenario: "s", scope: "Ip", type: "ban", value: "192.0.2.7", simulated: true },
        ],
        deleted: null,
      }),
    );
    expect(delta.added.map((b) => b.durationMs)).toEqual([3_600_000, 3_600_000]);
    expect(delta.skipped).toBe(2);
    expect(() => parseCrowdsecStream("<html>login</html>")).toThrow(/not JSON/);
    expect(() => parseCrowdsecStream('{"decisions": []}')).toThrow(/not a decision stream/);
    expect(() => parseCrowdsecStream('{"new": {}}')).toThrow(/arrays or null/);
  });
});
