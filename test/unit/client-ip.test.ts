// parseIp answers dotted-quad IPv4 without ipaddr.js; every other input goes through it.
// Both paths must agree on any input, valid or not.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseIp, parseWithIpaddr } from "../../src/context/client-ip.ts";

const octet = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map(String),
  // Near misses: out of range, leading zeros, signs, empty, non-digits.
  fc.constantFrom("256", "999", "00", "01", "007", "-1", "+1", "", "1e2", "0x1", " 1", "١"),
);

describe("client IP parsing: the dotted-quad fast path", () => {
  it("agrees with ipaddr.js on dotted quads and near misses", () => {
    fc.assert(
      fc.property(fc.array(octet, { minLength: 1, maxLength: 6 }), (parts) => {
        const text = parts.join(".");
        expect(parseIp(text)).toEqual(parseWithIpaddr(text.trim()));
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with ipaddr.js on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const trimmed = text.trim();
        if (trimmed.length === 0) return;
        expect(parseIp(text)).toEqual(parseWithIpaddr(trimmed));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ["192.0.2.1", { address: "192.0.2.1", version: 4, subnet: "192.0.2.0/24", net56: null, net48: null }],
    ["0.0.0.0", { address: "0.0.0.0", version: 4, subnet: "0.0.0.0/24", net56: null, net48: null }],
    ["::ffff:192.0.2.1", { address: "192.0.2.1", version: 4, subnet: "192.0.2.0/24", net56: null, net48: null }],
    ["2001:db8:1234:5678:9abc::1", { address: "2001:db8:1234:5678:9abc:0:0:1", version: 6, subnet: "2001:db8:1234:5678::/64", net56: "2001:db8:1234:5600::/56", net48: "2001:db8:1234::/48" }],
    ["192.0.2.256", null],
    ["010.0.0.1", null],
    ["1.2.3", null],
  ])("parses %s", (text, expected) => {
    expect(parseIp(text)).toEqual(expected);
  });
});
