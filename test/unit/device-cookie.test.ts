import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEVICE_COOKIE, deviceCookie, findCookie, signDeviceId, verifyDeviceCookie } from "../../src/context/device-cookie.ts";
import { createHasher } from "../../src/context/hmac.ts";

describe("device cookie", () => {
  it("a value signed with the secret verifies; a tampered or foreign one does not", async () => {
    const hasher = await createHasher("secret-a");
    const other = await createHasher("secret-b");
    const value = await signDeviceId("A".repeat(22), hasher);
    expect(await verifyDeviceCookie(value, hasher)).toBe("A".repeat(22));
    expect(await verifyDeviceCookie(value, other)).toBeNull();
    expect(await verifyDeviceCookie(value.replace("v1.A", "v1.B"), hasher)).toBeNull();
    expect(await verifyDeviceCookie(`${value}x`, hasher)).toBeNull();
  });

  it.each([
    ["absent", null, "absent"],
    ["garbage", `${DEVICE_COOKIE}=garbage`, "invalid"],
    ["another cookie only", "session=abc", "absent"],
  ])("a request with %s gets a fresh id", async (_name, header, state) => {
    const hasher = await createHasher("s");
    const headers = new Headers(header === null ? {} : { cookie: header });
    const c = await deviceCookie(headers, hasher, () => "N".repeat(22));
    expect(c).toMatchObject({ state, id: "N".repeat(22) });
    expect(c.setCookie).toMatch(/; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
  });

  it("a valid cookie keeps its id, among other cookies", async () => {
    const hasher = await createHasher("s");
    const value = await signDeviceId("K".repeat(22), hasher);
    const c = await deviceCookie(new Headers({ cookie: `a=1; ${DEVICE_COOKIE}=${value}; b=2` }), hasher, () => "N".repeat(22));
    expect(c).toMatchObject({ state: "valid", id: "K".repeat(22) });
  });

  it("the cookie parser never throws on hostile headers", () => {
    fc.assert(fc.property(fc.string({ maxLength: 10_000 }), (s) => {
      const v = findCookie(s);
      expect(v === null || typeof v === "string").toBe(true);
    }));
  });
});
