import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressKey, parseAddress, parseRange } from "../../src/shared/ip-key.ts";
import { rangeText } from "../../src/shared/list-sources.ts";

describe("IP and CIDR parsing", () => {
  it.each([
    ["192.0.2.1", 4, 0xc0000201n, 0xc0000201n],
    ["192.0.2.0/24", 4, 0xc0000200n, 0xc00002ffn],
    ["0.0.0.0/0", 4, 0n, 0xffffffffn],
    ["192.0.2.10-192.0.2.20", 4, 0xc000020an, 0xc0000214n],
    ["::ffff:192.0.2.1", 4, 0xc0000201n, 0xc0000201n],
    ["::ffff:192.0.2.0/120", 4, 0xc0000200n, 0xc00002ffn],
    ["2001:db8::/32", 6, 0x20010db8n << 96n, (0x20010db8n << 96n) | ((1n << 96n) - 1n)],
    ["2001:DB8::1", 6, (0x20010db8n << 96n) | 1n, (0x20010db8n << 96n) | 1n],
  ])("parses %s", (text, version, start, end) => {
    expect(parseRange(text, true)).toEqual({ version, start, end });
  });

  it.each([
    ["", /not an IP/],
    ["192.0.2", /not an IP/],
    ["010.0.0.1", /not an IP/], // octal-looking: ambiguous, rejected
    ["192.0.2.256", /not an IP/],
    ["192.0.2.0/33", /prefix/],
    ["192.0.2.0/08", /prefix/],
    ["192.0.2.1/24", /host bits set.*192\.0\.2\.0\/24/],
    ["2001:db8::/129", /prefix/],
    ["fe80::1%eth0", /not an IP/],
    ["192.0.2.9-192.0.2.1", /ends before/],
    ["192.0.2.1-2001:db8::1", /mixes/],
    ["AS123", /not an IP/],
  ])("rejects %j", (text, message) => {
    const r = parseRange(text, true);
    expect("error" in r && r.error).toMatch(message);
  });

  it("lenient parsing normalises host bits (fetched sources)", () => {
    expect(parseRange("192.0.2.77/24", false)).toEqual({ version: 4, start: 0xc0000200n, end: 0xc00002ffn });
  });

  it("never throws and bounds whatever it accepts (hostile input)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 120 }), fc.stringMatching(/^[0-9a-f:./-]{0,60}$/)), (s) => {
        const r = parseRange(s, true);
        if (!("error" in r)) {
          expect(r.start <= r.end).toBe(true);
          expect(r.end < (r.version === 4 ? 1n << 32n : 1n << 128n)).toBe(true);
        }
        parseAddress(s);
        addressKey(s);
      }),
    );
  });

  it("every CIDR contains its address, and formats back to itself", () => {
    const v4 = fc.tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }));
    fc.assert(
      fc.property(v4, ([n, prefix]) => {
        const addr = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
        const r = parseRange(`${addr}/${prefix}`, false);
        if ("error" in r) throw new Error(r.error);
        expect(r.start <= BigInt(n) && BigInt(n) <= r.end).toBe(true);
        expect(parseRange(rangeText(r), true)).toEqual(r);
      }),
    );
    const v6 = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 }));
    fc.assert(
      fc.property(v6, ([n, prefix]) => {
        const mask = (1n << BigInt(128 - prefix)) - 1n;
        const r = { version: 6 as const, start: n & ~mask, end: (n & ~mask) | mask };
        const back = parseRange(rangeText(r), true);
        // IPv4-mapped space comes back as IPv4, by design.
        if (!("error" in back) && back.version === 6) expect(back).toEqual(r);
      }),
    );
  });

  it("keys addresses as big-endian words", () => {
    expect([...(addressKey("192.0.2.1")?.key ?? [])]).toEqual([0xc0000201]);
    expect([...(addressKey("2001:db8::1")?.key ?? [])]).toEqual([0x20010db8, 0, 0, 1]);
    expect(addressKey("::ffff:10.0.0.1")?.version).toBe(4);
  });
});

describe("address keys: the fast path agrees with the general parser", () => {
  it("for random IPv4 and IPv6 addresses in every notation", () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join("."));
    const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(":"));
    fc.assert(
      fc.property(fc.oneof(v4, v6), (address) => {
        const parsed = parseAddress(address);
        const key = addressKey(address);
        if (parsed === null) return expect(key).toBeNull();
        let n = 0n;
        for (const w of key?.key ?? []) n = (n << 32n) | BigInt(w);
        expect(key?.version).toBe(parsed.version);
        expect(n).toBe(parsed.value);
      }),
    );
  });

  it.each(["256.1.1.1", "01.2.3.4", "1.2.3"])("rejects %j", (address) => {
    expect(addressKey(address)).toBeNull();
  });
});
