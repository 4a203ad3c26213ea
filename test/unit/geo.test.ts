import { readFileSync } from "node:fs";
import fc from "fast-check";
import maxmind from "maxmind";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { packageDir } from "../../src/cli/data/geo-build.ts";
import { countryCentroid } from "../../src/cli/data/centroids.ts";
import { maskSegments, RESERVED } from "../../src/cli/data/reserved.ts";
import { SegmentBuilder } from "../../src/cli/data/segments.ts";
import { parseIp } from "../../src/context/client-ip.ts";
import { createGeoResolver, type GeoInput, geoFromCf, readGeoSource } from "../../src/context/geo.ts";
import { type LocalGeo, loadLocalGeo } from "../../src/context/geo-local.ts";
import { distanceKm, geoFacts } from "../../src/scoring/signals/geo.ts";
import type { AccountHistory } from "../../src/store/port.ts";

const NOW = Date.parse("2026-06-01T12:00:00Z");

function geo(country: string, lat: number | null, lon: number | null, asn = 3320): GeoInput {
  return { country, region: "", asn, asOrg: "", lat, lon, source: "local" };
}

function history(patch: Partial<AccountHistory> = {}): AccountHistory {
  return { devices: [], countries: ["DE"], asns: [3320], lastVerified: { lat: 51.4, lon: 10.3, at: NOW - 3_600_000 }, privileged: false, ...patch };
}

describe("geo facts", () => {
  it.each([
    ["no geo at all", null, history(), { known: false, new_country: false, speed_kmh: 0 }],
    ["no history: nothing is new", geo("JP", 36, 138), null, { known: true, new_country: false, new_asn: false, distance_km: 0 }],
    ["only the origin's privileged tag: nothing is new", geo("JP", 36, 138), history({ countries: [], asns: [], lastVerified: null, privileged: true }), { new_country: false, new_asn: false, distance_km: 0 }],
    ["the verified country", geo("DE", 51.4, 10.3), history(), { new_country: false, new_asn: false }],
    ["another country and network an hour later", geo("JP", 36, 138, 17676), history(), { new_country: true, new_asn: true }],
    ["a country but an unknown ASN", geo("DE", 51.4, 10.3, 0), history(), { new_asn: false }],
    ["no location: no distance", geo("JP", null, null), history(), { distance_km: 0, speed_kmh: 0, has_location: false }],
  ])("%s", (_name, input, hist, expected) => {
    expect(geoFacts(input, hist, NOW)).toMatchObject(expected);
  });

  it("speed is distance over time since the last verified location (impossible travel)", () => {
    const f = geoFacts(geo("JP", 36, 138), history(), NOW);
    expect(f.distance_km).toBeGreaterThan(8500);
    expect(f.distance_km).toBeLessThan(9500);
    expect(f.speed_kmh).toBeCloseTo(f.distance_km, 0); // one hour
    const later = geoFacts(geo("JP", 36, 138), history({ lastVerified: { lat: 51.4, lon: 10.3, at: NOW - 48 * 3_600_000 } }), NOW);
    expect(later.speed_kmh).toBeLessThan(200);
  });

  it("haversine is symmetric and zero on the spot", () => {
    const coord = fc.tuple(fc.double({ min: -90, max: 90, noNaN: true }), fc.double({ min: -180, max: 180, noNaN: true }));
    fc.assert(
      fc.property(coord, coord, ([a, b], [c, d]) => {
        expect(distanceKm(a, b, c, d)).toBeCloseTo(distanceKm(c, d, a, b), 6);
        expect(distanceKm(a, b, a, b)).toBeCloseTo(0, 6);
        expect(distanceKm(a, b, c, d)).toBeLessThanOrEqual(20_016);
      }),
    );
  });
});

describe("geo sources", () => {
  const cf = { country: "FR", asn: 16276, asOrganization: "OVH", latitude: "48.8", longitude: "2.3", regionCode: "IDF" } as IncomingRequestCfProperties;
  const local: LocalGeo = {
    meta: { records: [], sources: [], level: "full" },
    lookup: () => ({ country: "DE", region: "", asn: 3320, asOrg: "DTAG", lat: 51, lon: 10 }),
  };
  const ip = parseIp("80.128.0.1");

  it.each([
    ["auto, production, with request.cf", "auto", false, cf, "cf"],
    ["auto, production, request.cf without country (not on Cloudflare)", "auto", false, {} as IncomingRequestCfProperties, "local"],
    ["auto, development: wrangler dev's request.cf is one fixed value", "auto", true, cf, "local"],
    ["cf, no request.cf", "cf", true, undefined, null],
    ["local", "local", false, cf, "local"],
    ["off", "off", false, cf, null],
  ] as const)("%s → %s", (_name, source, development, cfProps, expected) => {
    const resolve = createGeoResolver(source, development, () => local);
    expect(resolve(cfProps, ip)?.source ?? null).toBe(expected);
  });

  it("auto in development falls back to request.cf where the database has no answer", () => {
    const empty: LocalGeo = { ...local, lookup: () => null };
    expect(createGeoResolver("auto", true, () => empty)(cf, parseIp("192.0.2.1"))?.source).toBe("cf");
    expect(createGeoResolver("local", true, () => empty)(cf, parseIp("192.0.2.1"))).toBeNull();
  });

  it("an explicit GEO_SOURCE=local without bundled data fails at start-up; auto falls back", () => {
    expect(() => createGeoResolver("local", false, () => null, true)).toThrow(/bundled none/);
    expect(createGeoResolver("auto", true, () => null, true)(cf, ip)?.source).toBe("cf");
    expect(createGeoResolver("auto", true, () => null, true)(undefined, ip)).toBeNull();
  });

  it("says once, at start-up, when development has no local database to read", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      createGeoResolver("auto", true, () => null, true);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(JSON.parse(String(warn.mock.calls[0]?.[0])).type).toBe("riskgate.geo_local_missing");
      createGeoResolver("auto", true, () => local, true);
      createGeoResolver("auto", false, () => null, true);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it("reads request.cf defensively", () => {
    expect(geoFromCf({ country: "FR", latitude: "not a number" } as IncomingRequestCfProperties)).toMatchObject({ country: "FR", lat: null, asn: 0 });
    expect(geoFromCf({ country: "" } as unknown as IncomingRequestCfProperties)).toBeNull();
  });

  it.each([["", "auto"], ["CF", "cf"], [" local ", "local"]])("GEO_SOURCE %j is %s", (v, expected) => {
    expect(readGeoSource(v)).toBe(expected);
  });

  it("rejects an unknown GEO_SOURCE once, at start-up", () => {
    expect(() => readGeoSource("maxmind")).toThrow(/GEO_SOURCE must be one of/);
  });
});

describe("the bundled geo database (build/geo.bin)", () => {
  let db: LocalGeo;
  beforeAll(() => {
    db = loadLocalGeo(readFileSync("build/geo.bin"));
  });

  it("records its sources and licences", () => {
    expect(db.meta.level).toBe("full");
    expect(db.meta.sources.map((s) => s.licence).join(" ")).toMatch(/CC BY 4\.0/);
  });

  it.each(["192.0.2.1", "198.51.100.77", "203.0.113.7", "10.1.2.3", "127.0.0.1", "100.64.0.1", "2001:db8::1", "fe80::1", "fd00::1"])(
    "has no answer for the special-purpose address %s (the source data maps some to countries)",
    (address) => {
      const ip = parseIp(address);
      expect(ip && db.lookup(ip)).toBeNull();
    },
  );

  it.each([
    ["80.128.0.1", "DE", 3320],
    ["126.0.0.1", "JP", 17676],
    ["104.131.0.1", "US", 14061],
    ["2a01:4f8::1", "DE", 24940],
  ])("%s is in %s, AS%i", (address, country, asn) => {
    const ip = parseIp(address);
    expect(ip && db.lookup(ip)).toMatchObject({ country, asn });
  });

  it("agrees with the maxmind reader on the source database for random public addresses", async () => {
    const reader = await maxmind.open(
      `${packageDir("@ip-location-db/geo-whois-asn-country-mmdb")}/geo-whois-asn-country.mmdb`,
    );
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join("."));
    fc.assert(
      fc.property(v4, (address) => {
        const ip = parseIp(address);
        const n = BigInt(address.split(".").reduce((acc, b) => acc * 256 + Number(b), 0));
        if (ip === null || RESERVED.v4.some(([a, b]) => n >= a && n <= b)) return;
        const expected = (reader.get(address) as { country_code?: string } | null)?.country_code ?? null;
        expect(db.lookup(ip)?.country || null).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("geo build helpers", () => {
  it("segments merge equal neighbours and fill gaps", () => {
    const b = new SegmentBuilder(1, 32);
    b.add(10n, 19n, 1);
    b.add(20n, 29n, 1);
    b.add(40n, 49n, 2);
    expect(b.starts).toEqual([10n, 30n, 40n]);
    expect(b.values).toEqual([1, 0, 2]);
  });

  it.each([
    ["a mask inside one segment splits it", [0n, 100n], [1, 2], [[10n, 19n]], [0n, 10n, 20n, 100n], [1, 0, 1, 2]],
    ["a mask over a boundary", [0n, 15n, 100n], [1, 2, 3], [[10n, 19n]], [0n, 10n, 20n, 100n], [1, 0, 2, 3]],
    ["a mask up to the next segment", [0n, 20n], [1, 2], [[10n, 19n]], [0n, 10n, 20n], [1, 0, 2]],
    ["a mask at the very start", [0n, 50n], [1, 2], [[0n, 9n]], [10n, 50n], [1, 2]],
  ] as const)("masking: %s", (_name, starts, values, masks, outStarts, outValues) => {
    expect(maskSegments(starts, values, masks)).toEqual({ starts: outStarts, values: outValues });
  });

  it("IPv6 truncated to /64 keeps the first range of a shared /64", () => {
    const b = new SegmentBuilder(2, 128);
    b.add(0x20010db8n << 96n, (0x20010db8n << 96n) + 5n, 1);
    b.add((0x20010db8n << 96n) + 6n, (0x20010db8n << 96n) + (1n << 64n) - 1n, 2);
    expect(b.values).toEqual([1]);
  });

  it.each([
    ["DE", 47, 55, 5, 15],
    ["FR", 42, 51, -5, 8], // metropolitan France, not an overseas territory
    ["US", 25, 49, -125, -67], // contiguous states
  ])("the centroid of %s lies inside its mainland", (code, latMin, latMax, lonMin, lonMax) => {
    const [lat = 0, lon = 0] = countryCentroid(code) ?? [];
    expect(lat).toBeGreaterThan(latMin);
    expect(lat).toBeLessThan(latMax);
    expect(lon).toBeGreaterThan(lonMin);
    expect(lon).toBeLessThan(lonMax);
  });
});
