// Device identity (issue #16.1): a device key must mean one device, or a few. Without a
// cookie the key used to be a hash of UA + Accept-Language + platform hint, which every
// iPhone on Safari in en-US shares; these tests pin the population each key stands for.
import { describe, expect, it } from "vitest";
import { parseIp } from "../../src/context/client-ip.ts";
import { browserShape, deviceKeyMaterial, fingerprintNetwork, tlsFingerprint } from "../../src/context/device-key.ts";
import { createHasher } from "../../src/context/hmac.ts";
import { DEV_HMAC_SECRET } from "../../src/gateway/config.ts";
import { buildContext } from "../../src/reset/context.ts";
import { bundledRuleset } from "../../src/scoring/ruleset/bundled.ts";

const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

const ip = (s: string) => {
  const parsed = parseIp(s);
  if (parsed === null) throw new Error(s);
  return parsed;
};

/** The context stage's device key and strength for one request. */
async function keyOf(address: string | null, headers: Record<string, string> = {}, cookie: string | null = null) {
  const route = bundledRuleset().spec.routes[0];
  if (route === undefined) throw new Error("the shipped rules define no route");
  const request = new Request("https://gw.test/password/reset", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": IPHONE,
      "accept-language": "en-US,en;q=0.9",
      ...(address === null ? {} : { "cf-connecting-ip": address }),
      ...(cookie === null ? {} : { cookie }),
      ...headers,
    },
    body: JSON.stringify({ email: "a@example.com" }),
  });
  const ctx = await buildContext(request, route, {
    hasher: await createHasher(DEV_HMAC_SECRET),
    now: 0,
    trustedIpHeader: null,
    bodyLimit: 8192,
    userAgentLimit: 512,
    geo: () => null,
  });
  return { key: ctx.keys.device, strength: ctx.device.keyStrength, setCookie: ctx.device.cookie.setCookie };
}

describe("device keys through the context stage", () => {
  it("two people with the same iPhone, browser and language in two homes are two devices", async () => {
    const a = await keyOf("198.51.100.7");
    const b = await keyOf("203.0.113.9");
    expect(a.strength).toBe("network-fingerprint");
    expect(b.strength).toBe("network-fingerprint");
    // The old key (UA + language + platform) was the same for both: one "device" that
    // soon asked for 5+ accounts an hour.
    expect(a.key).not.toBe(b.key);
  });

  it("a client that drops its cookie stays one device on its address", async () => {
    const first = await keyOf("198.51.100.7");
    const again = await keyOf("198.51.100.7");
    expect(again.key).toBe(first.key);
  });

  it("IPv6: the same device across privacy addresses of one /64, another device in another /64", async () => {
    const a = await keyOf("2001:db8:1:2::10");
    const b = await keyOf("2001:db8:1:2:abcd::99");
    const c = await keyOf("2001:db8:1:3::10");
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(c.key);
  });

  it("on one address, a browser that differs in any client hint is another device", async () => {
    const hints = { "user-agent": CHROME, "sec-ch-ua": '"Chromium";v="130", "Google Chrome";v="130", "Not?A_Brand";v="99"', "sec-ch-ua-platform": '"Windows"' };
    const a = await keyOf("198.51.100.7", hints);
    const b = await keyOf("198.51.100.7", { ...hints, "sec-ch-ua-platform-version": '"15.0.0"' });
    const c = await keyOf("198.51.100.7", { ...hints, "sec-ch-ua": '"Chromium";v="131", "Google Chrome";v="131", "Not?A_Brand";v="99"' });
    expect(new Set([a.key, b.key, c.key]).size).toBe(3);
  });

  it("without a usable address the key is the bare shape: strength `shape`, shared by everyone alike", async () => {
    const a = await keyOf(null);
    const b = await keyOf(null);
    expect(a.strength).toBe("shape");
    expect(a.key).toBe(b.key);
  });

  it("a valid cookie is the device, whatever the address", async () => {
    const minted = await keyOf("198.51.100.7");
    const cookie = minted.setCookie.split(";")[0] ?? "";
    const home = await keyOf("198.51.100.7", {}, cookie);
    const mobile = await keyOf("203.0.113.9", {}, cookie);
    expect(home.strength).toBe("cookie");
    expect(mobile.key).toBe(home.key);
    expect(home.key).not.toBe(minted.key);
  });
});

describe("device key material", () => {
  const shape = browserShape(new Headers(), IPHONE, "en-US", "");

  it("cookie beats everything; the network scopes the shape; no network leaves the shape", () => {
    expect(deviceKeyMaterial(true, shape, ip("198.51.100.7"))).toEqual({ strength: "cookie", material: null });
    expect(deviceKeyMaterial(false, shape, ip("198.51.100.7")).strength).toBe("network-fingerprint");
    expect(deviceKeyMaterial(false, shape, null)).toEqual({ strength: "shape", material: `shape:${shape}` });
  });

  it("scopes IPv4 to the address (not the /24: one /24 holds 254 homes) and IPv6 to the /64", () => {
    expect(fingerprintNetwork(ip("198.51.100.7"))).toBe("198.51.100.7");
    expect(fingerprintNetwork(ip("2001:db8:1:2::10"))).toBe("2001:db8:1:2::/64");
    expect(fingerprintNetwork(null)).toBeNull();
  });

  it("takes the zone's JA4, else its JA3 hash, and nothing from malformed cf", () => {
    expect(tlsFingerprint({ botManagement: { ja4: "t13d1516h2_8daaf6152771_b0da82dd1658", ja3Hash: "abc" } })).toBe("ja4:t13d1516h2_8daaf6152771_b0da82dd1658");
    expect(tlsFingerprint({ botManagement: { ja3Hash: "e7d705a3286e19ea42f587b344ee6865" } })).toBe("ja3:e7d705a3286e19ea42f587b344ee6865");
    for (const cf of [undefined, null, "x", {}, { botManagement: null }, { botManagement: { ja4: 7 } }]) expect(tlsFingerprint(cf)).toBe("");
    expect(tlsFingerprint({ botManagement: { ja4: "x".repeat(1000) } }).length).toBeLessThanOrEqual(64);
  });

  it("two TLS stacks behind one UA string are two shapes (a script copying a browser's UA)", () => {
    const headers = new Headers();
    expect(browserShape(headers, CHROME, "en-US", "ja4:a")).not.toBe(browserShape(headers, CHROME, "en-US", "ja4:b"));
  });
});
