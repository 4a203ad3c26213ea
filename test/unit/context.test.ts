import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normaliseIdentifier } from "../../src/context/account.ts";
import { clientIp, parseIp } from "../../src/context/client-ip.ts";
import { createHasher } from "../../src/context/hmac.ts";

describe("client IP", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7", 4, "203.0.113.0/24"],
    [" 198.51.100.255 ", "198.51.100.255", 4, "198.51.100.0/24"],
    ["::ffff:192.0.2.1", "192.0.2.1", 4, "192.0.2.0/24"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6", 6, "2001:db8:1:2::/64"],
    ["2001:DB8::1", "2001:db8:0:0:0:0:0:1", 6, "2001:db8::/64"],
  ])("parses %s", (raw, address, version, subnet) => {
    expect(parseIp(raw)).toMatchObject({ address, version, subnet });
  });

  it.each(["", "not-an-ip", "999.1.1.1", "1.2.3", "1.2.3.4/24", "x".repeat(100)])("rejects %j", (raw) => {
    expect(parseIp(raw)).toBeNull();
  });

  it("never throws on hostile input", () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
      const r = parseIp(s);
      expect(r === null || typeof r.address === "string").toBe(true);
    }));
  });

  it("reads only the platform header unless one is configured as trusted", () => {
    const headers = new Headers({ "x-forwarded-for": "1.1.1.1", "true-client-ip": "2.2.2.2", "x-real-ip": "3.3.3.3" });
    expect(clientIp(headers, null)).toBeNull();
    headers.set("cf-connecting-ip", "4.4.4.4");
    expect(clientIp(headers, null)?.address).toBe("4.4.4.4");
    expect(clientIp(headers, "x-real-ip")?.address).toBe("3.3.3.3");
    expect(clientIp(headers, "x-forwarded-for")?.address).toBe("1.1.1.1");
  });
});

describe("account identifier", () => {
  it.each([
    ["  Alice@Example.COM ", "alice@example.com"],
    ["ａｌｉｃｅ@example.com", "alice@example.com"],
    ["Ⅻ@example.com", "xii@example.com"],
  ])("normalises %j", (raw, expected) => {
    expect(normaliseIdentifier(raw)).toBe(expected);
  });

  it.each(["", "   ", "a".repeat(321)])("rejects %j", (raw) => {
    expect(normaliseIdentifier(raw)).toBeNull();
  });

  it("hashes with the secret and the kind, never echoing the input", async () => {
    const a = await createHasher("secret-a");
    const b = await createHasher("secret-b");
    const h = await a.hash("account", "alice@example.com");
    expect(h).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(h).toBe(await a.hash("account", "alice@example.com"));
    expect(h).not.toBe(await b.hash("account", "alice@example.com"));
    expect(h).not.toBe(await a.hash("device", "alice@example.com"));
  });
});
