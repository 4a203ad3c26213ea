// The signals, end to end inside workerd, offline, on the embedded Durable Object store:
// each "done" case of issue 4 yields its documented facts and reason codes.
import { describe, expect, it } from "vitest";
import { cookieFrom, deviceOf, factsFor, reasonsOf, report, reset, resetRequest } from "./helpers.ts";

const HEADLESS_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36";

describe("IP reputation and geo, offline", () => {
  it.each([
    ["a Tor exit (IPv4)", "192.0.2.66", "tor_exit", "IP_TOR_EXIT"],
    ["a Tor exit (IPv6)", "2001:db8:7::66", "tor_exit", "IP_TOR_EXIT"],
    ["a hosting ASN (DigitalOcean, AS14061)", "104.131.0.1", "hosting", "IP_HOSTING_ASN"],
    ["a hosting ASN over IPv6 (Hetzner, AS24940)", "2a01:4f8::1", "hosting", "IP_HOSTING_ASN"],
    ["a VPN range", "192.0.2.130", "vpn", "IP_VPN"],
    ["a known-bad range", "198.51.100.201", "known_bad", "IP_KNOWN_BAD"],
  ])("%s yields ip.%s and %s", async (_name, ip, fact, code) => {
    const { facts, reasons } = await factsFor(resetRequest(`rep-${ip}@example.com`, { "cf-connecting-ip": ip }));
    expect(facts.ip?.[fact]).toBe(true);
    expect(reasons).toContain(code);
  });

  it.each([
    ["a residential network (Deutsche Telekom)", "80.128.0.1", "DE", 3320],
    ["a residential network (SoftBank)", "126.0.0.1", "JP", 17676],
  ])("%s is on no list and gets its geo from the bundled database", async (_name, ip, country, asn) => {
    const { facts, reasons } = await factsFor(resetRequest(`clean-${ip}@example.com`, { "cf-connecting-ip": ip }));
    expect(facts.geo).toMatchObject({ known: true, source: "local", country, asn, has_location: true });
    expect(facts.ip).toMatchObject({ tor_exit: false, hosting: false, vpn: false, known_bad: false, lists: [] });
    expect(reasons).not.toContain("IP_HOSTING_ASN");
  });

  it("the hosting reason reaches the origin in the signed decision", async () => {
    const { origin } = await reset("hosting-e2e@example.com", { "cf-connecting-ip": "104.131.0.2" });
    expect(reasonsOf(origin)).toContain("IP_HOSTING_ASN");
  });

  it("on Cloudflare request.cf wins over the local database", async () => {
    const req = new Request(resetRequest("cf@example.com", { "cf-connecting-ip": "80.128.0.1" }), {
      cf: { country: "FR", asn: 14061, asOrganization: "DigitalOcean", latitude: "48.85", longitude: "2.35", regionCode: "IDF" },
    });
    const { facts, reasons } = await factsFor(req, { GEO_SOURCE: "cf" });
    expect(facts.geo).toMatchObject({ source: "cf", country: "FR", asn: 14061, region: "IDF" });
    expect(reasons).toContain("IP_HOSTING_ASN"); // the hosting list matched the platform's ASN
  });
});

describe("device", () => {
  it("a headless client yields device.headless and UA_HEADLESS", async () => {
    const { facts, reasons } = await factsFor(
      resetRequest("headless@example.com", {
        "user-agent": HEADLESS_UA,
        "sec-ch-ua": '"HeadlessChrome";v="130", "Chromium";v="130", "Not?A_Brand";v="99"',
        "sec-ch-ua-platform": '"Linux"',
      }),
    );
    expect(facts.device).toMatchObject({ headless: true, ch_brand: "HeadlessChrome", ch_mismatch: false });
    expect(reasons).toContain("UA_HEADLESS");
  });

  it("a real browser's headers yield no device or header anomaly", async () => {
    const { facts, reasons } = await factsFor(resetRequest("chrome@example.com", { "cf-connecting-ip": "80.128.0.9" }));
    expect(facts.device).toMatchObject({ browser: "Chrome", os: "Windows", ch_present: true, ch_mismatch: false, ch_missing: false, automation: false });
    expect(facts.headers).toMatchObject({ anomalies: [], missing_browser_headers: 0, languages: 2 });
    expect(reasons).toEqual([]);
  });

  it.each([
    ["hints from a Firefox UA", { "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0" }, "non_chromium_ua"],
    ["hints naming another platform", { "sec-ch-ua-platform": '"macOS"' }, "platform"],
    ["hints claiming mobile on a desktop UA", { "sec-ch-ua-mobile": "?1" }, "mobile"],
    ["hints with another Chromium version", { "sec-ch-ua": '"Chromium";v="120", "Google Chrome";v="120"' }, "version"],
    ["malformed hints", { "sec-ch-ua": '"Chromium;v=130' }, "malformed"],
  ])("%s yields CLIENT_HINTS_MISMATCH", async (_name, headers, problem) => {
    const { facts, reasons } = await factsFor(resetRequest("hints@example.com", headers));
    expect(facts.device?.ch_problems).toContain(problem);
    expect(reasons).toContain("CLIENT_HINTS_MISMATCH");
  });

  it("a UA with control characters yields HEADER_ANOMALY", async () => {
    const { facts, reasons } = await factsFor(resetRequest("ctl@example.com", { "user-agent": `${"Mozilla/5.0"}\u0001\u007f` }));
    expect(facts.headers?.ua_invalid_chars).toBe(true);
    expect(reasons).toContain("HEADER_ANOMALY");
  });

  it("a forged device cookie is not recognised and yields DEVICE_COOKIE_INVALID", async () => {
    const forged = "__Host-riskgate-device=v1.AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB";
    const { facts, reasons } = await factsFor(resetRequest("forged@example.com", { cookie: forged }));
    expect(facts.device).toMatchObject({ cookie_invalid: true, returning: false, known: false });
    expect(reasons).toContain("DEVICE_COOKIE_INVALID");
  });

  it("every scored response carries the signed device cookie, whatever the verdict", async () => {
    const allowed = await reset("cookie-allow@example.com");
    const denied = await reset("cookie-deny@example.com", { "cf-connecting-ip": "198.51.100.201", "user-agent": "" });
    for (const { res } of [allowed, denied]) {
      expect(res.status).toBe(202);
      expect(res.headers.get("set-cookie")).toMatch(
        /^__Host-riskgate-device=v1\.[\w-]{22}\.[\w-]{22}; Max-Age=34560000; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
      );
    }
    expect(denied.origin).toBeNull(); // silently denied, yet indistinguishable to the client
  });

  it("a returning device keeps its id; a device without a cookie gets a new one", async () => {
    const first = await reset("returning@example.com");
    const cookie = cookieFrom(first.res);
    const again = await reset("returning@example.com", { cookie });
    expect(cookieFrom(again.res)).toBe(cookie);
    expect(deviceOf(again.origin)).toBe(deviceOf(first.origin));
    const fresh = await reset("returning@example.com");
    expect(cookieFrom(fresh.res)).not.toBe(cookie);
  });
});

describe("velocity", () => {
  it("the tenth account from one IP yields distinct.accounts_per_ip_1h = 10 and DISTINCT_ACCOUNTS_PER_IP", async () => {
    let last = { facts: {} as Record<string, Record<string, unknown>>, reasons: [] as string[] };
    for (let i = 1; i <= 10; i++) {
      last = await factsFor(resetRequest(`enum${i}@tenth.example`, { "cf-connecting-ip": "198.51.100.33" }));
      if (i === 9) expect(last.reasons).not.toContain("DISTINCT_ACCOUNTS_PER_IP");
    }
    expect(last.facts.distinct?.accounts_per_ip_1h).toBe(10);
    expect(last.reasons).toContain("DISTINCT_ACCOUNTS_PER_IP");
  });
});

describe("account history learns only from confirmed outcomes", () => {
  const DE = "80.128.0.1";
  const JP = "126.0.0.1";

  it("after a verified outcome the same device and country are recognised; a new country is not", async () => {
    const email = "learner@example.com";
    const first = await reset(email, { "cf-connecting-ip": DE });
    const cookie = cookieFrom(first.res);
    expect(reasonsOf(first.origin)).not.toContain("DEVICE_KNOWN");

    const outcome = await report(first.origin, "verified");
    expect(outcome.status).toBe(200);
    expect(await outcome.json()).toMatchObject({ status: "accepted", event: "verified", learned: true });

    const home = await factsFor(resetRequest(email, { "cf-connecting-ip": DE, cookie }));
    expect(home.facts.device).toMatchObject({ known: true, returning: true });
    expect(home.facts.geo).toMatchObject({ country: "DE", new_country: false, new_asn: false });
    expect(home.facts.account).toMatchObject({ has_history: true, known_devices: 1, known_countries: 1 });
    expect(home.reasons).toContain("DEVICE_KNOWN");
    expect(home.reasons).not.toContain("GEO_NEW_COUNTRY");

    const abroad = await factsFor(resetRequest(email, { "cf-connecting-ip": JP, cookie }));
    expect(abroad.facts.geo).toMatchObject({ country: "JP", new_country: true });
    expect(abroad.reasons).toEqual(expect.arrayContaining(["GEO_NEW_COUNTRY", "GEO_IMPOSSIBLE_TRAVEL", "DEVICE_KNOWN"]));

    const stranger = await factsFor(resetRequest(email, { "cf-connecting-ip": DE }));
    expect(stranger.facts.device?.known).toBe(false);
    expect(stranger.reasons).toContain("DEVICE_NEW_FOR_ACCOUNT");
  });

  it.each(["sent", "abandoned", "fraud_reported"])("a %s outcome is accepted but teaches nothing", async (event) => {
    const email = `nolearn-${event}@example.com`;
    const first = await reset(email, { "cf-connecting-ip": DE });
    const res = await report(first.origin, event);
    expect(await res.json()).toMatchObject({ status: "accepted", event, learned: false });
    const next = await factsFor(resetRequest(email, { "cf-connecting-ip": DE, cookie: cookieFrom(first.res) }));
    expect(next.facts.device?.known).toBe(false);
    expect(next.facts.account?.has_history).toBe(false);
  });

  it("an unconfirmed request never teaches history, however often it is repeated", async () => {
    const email = "repeat@example.com";
    const first = await reset(email, { "cf-connecting-ip": DE });
    const cookie = cookieFrom(first.res);
    for (let i = 0; i < 3; i++) await reset(email, { "cf-connecting-ip": DE, cookie });
    const next = await factsFor(resetRequest(email, { "cf-connecting-ip": DE, cookie }));
    expect(next.facts.device?.known).toBe(false);
    expect(next.facts.account?.has_history).toBe(false);
  });
});
