import { describe, expect, it } from "vitest";
import { parseIp } from "../../src/context/client-ip.ts";
import { compileLists, expiryWarnings } from "../../src/scoring/signals/list-compile.ts";
import { parseListLine, parseListText } from "../../src/scoring/signals/list-format.ts";
import { loadReputationLists, reputationFacts } from "../../src/scoring/signals/ip-reputation.ts";

const NOW = Date.parse("2026-06-01T00:00:00Z");

describe("list format", () => {
  it.each([
    ["192.0.2.1", { expires: 0, reason: "" }],
    ["192.0.2.0/24   # abuse report 42", { expires: 0, reason: "abuse report 42" }],
    ["  2001:db8::/48 expires=2027-01-31", { expires: Date.parse("2027-01-31T00:00:00Z"), reason: "" }],
    ["198.51.100.1 expires=2027-01-31T12:30Z # incident", { expires: Date.parse("2027-01-31T12:30Z"), reason: "incident" }],
    ["AS64496 # test network", { target: { asn: 64496 }, reason: "test network" }],
  ])("parses %j", (line, expected) => {
    expect(parseListLine(line, 1, true)).toMatchObject(expected);
  });

  it.each(["", "   ", "# only a comment", "\t# indented comment"])("skips %j", (line) => {
    expect(parseListLine(line, 1, true)).toBeNull();
  });

  it.each([
    ["192.0.2.1 expires=tomorrow", /unknown option/],
    ["192.0.2.1 ttl=5", /unknown option/],
    ["192.0.2.1/24", /host bits/],
    ["AS99999999999", /out of range/],
    ["example.com", /not an IP/],
    ["x".repeat(1001), /longer than/],
  ])("reports %j with its line number", (line, message) => {
    const { errors } = parseListText(`# header\n${line}\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.line).toBe(2);
    expect(errors[0]?.message).toMatch(message);
  });
});

function compiled(lists: Record<string, string>) {
  const named = Object.entries(lists).map(([name, text]) => ({ name, entries: parseListText(text).entries }));
  const { pack, meta } = compileLists(named, NOW);
  return { lists: loadReputationLists(pack), meta };
}

function facts(lists: ReturnType<typeof compiled>["lists"], ip: string, asn = 0, now = NOW) {
  return reputationFacts(lists, parseIp(ip), asn, now);
}

describe("compiled reputation lists", () => {
  const { lists, meta } = compiled({
    tor_exits: "192.0.2.66\n2001:db8:7::66 # exit\n",
    known_bad: "192.0.2.0/24 # bad range\n198.51.100.7 expires=2026-07-01 # incident\n198.51.100.8 expires=2026-01-01\n",
    hosting: "AS64496 # cloud\n",
    allow: "192.0.2.10 # monitor\n",
  });

  it("drops entries already expired at build", () => {
    expect(meta.expiredDropped).toBe(1);
    expect(meta.entries).toBe(6);
  });

  it("names, per list, the entries it dropped and those that expire within two weeks", () => {
    const named = Object.entries({
      tor_exits: "192.0.2.66 expires=2026-05-01\n192.0.2.67 expires=2026-05-02\n192.0.2.68 expires=2026-06-10\n",
      hosting: "AS64496 expires=2026-06-05\nAS64497 expires=2026-06-14\nAS64498 expires=2026-09-01\n",
      allow: "192.0.2.10\n",
    }).map(([name, text]) => ({ name, entries: parseListText(text).entries }));
    const { expiry } = compileLists(named, NOW);
    expect(expiry).toEqual([
      { list: "tor_exits", expired: 2, expiringSoon: 1, firstExpiry: Date.parse("2026-06-10") },
      { list: "hosting", expired: 0, expiringSoon: 2, firstExpiry: Date.parse("2026-06-05") },
    ]);
    const warnings = expiryWarnings(expiry);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^tor_exits: 2 expired entries dropped .*lists update/);
    expect(warnings[2]).toBe("hosting: 2 entries expire from 2026-06-05");
  });

  it.each([
    ["an exit inside a bad range matches both", "192.0.2.66", 0, { tor_exit: true, known_bad: true, lists: ["tor_exits", "known_bad"] }],
    ["an allowlisted host inside a bad range matches both", "192.0.2.10", 0, { allowlisted: true, known_bad: true }],
    ["the rest of the bad range", "192.0.2.200", 0, { known_bad: true, tor_exit: false, list_reason: "bad range" }],
    ["an IPv6 exit", "2001:db8:7::66", 0, { tor_exit: true, list_reason: "exit" }],
    ["the IPv6 neighbour of an exit", "2001:db8:7::67", 0, { tor_exit: false, lists: [] }],
    ["an ASN entry", "203.0.113.1", 64496, { hosting: true, list_reason: "cloud" }],
    ["another ASN", "203.0.113.1", 64497, { hosting: false, lists: [] }],
    ["an address on no list", "203.0.113.1", 0, { tor_exit: false, known_bad: false, lists: [] }],
    ["an IPv4-mapped IPv6 exit", "::ffff:192.0.2.66", 0, { tor_exit: true }],
  ])("%s", (_name, ip, asn, expected) => {
    expect(facts(lists, ip, asn)).toMatchObject(expected);
  });

  it("an entry stops matching at its expiry, without a rebuild", () => {
    expect(facts(lists, "198.51.100.7").known_bad).toBe(true);
    expect(facts(lists, "198.51.100.7", 0, Date.parse("2026-07-01T00:00:01Z")).known_bad).toBe(false);
  });

  it("the shipped starter lists compile without errors", async () => {
    const { readLists } = await import("../../src/cli/data/lists-build.ts");
    const { lists: files, errors } = await readLists("rules/lists");
    expect(errors).toEqual([]);
    expect(files.map((l) => l.name).sort()).toEqual(["allow", "hosting", "known_bad", "tor_exits", "vpn"]);
  });
});
