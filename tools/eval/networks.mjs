// Real addresses for the evaluation: IPv4 ranges of the AS numbers the scenarios need,
// from the same data the gateway's local geo database is built from
// (@ip-location-db/asn for AS numbers, @ip-location-db/geo-whois-asn-country-mmdb for
// countries), so the gateway sees the country and network each actor is meant to have.
import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import maxmind from "maxmind";

const require = createRequire(import.meta.url);
const ASN_CSV = require.resolve("@ip-location-db/asn/asn-ipv4-num.csv");
const COUNTRY_MMDB = require.resolve("@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-ipv4.mmdb");

export const ipToString = (n) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/** Special-purpose and shared ranges no client address is drawn from. */
const AVOID = [
  [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16], [0xac100000, 12], [0xc0a80000, 16],
  [0xc0000200, 24], [0xc6336400, 24], [0xcb007100, 24], [0xc6120000, 15], [0xe0000000, 3],
];
const avoided = (n) => AVOID.some(([base, bits]) => n >>> (32 - bits) === base >>> (32 - bits));

/**
 * Load the ranges of every AS number in `needs` ([{asn, country}]) and index them by
 * "asn:country". Ranges are kept when their first and last address geolocate to the
 * country. ~1 s (one pass over a 21 MB CSV).
 */
export async function loadNetworks(needs) {
  const asns = new Set(needs.map((n) => n.asn));
  const byAsn = new Map();
  const lines = createInterface({ input: createReadStream(ASN_CSV), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    const a = line.indexOf(",");
    const b = line.indexOf(",", a + 1);
    const c = line.indexOf(",", b + 1);
    const asn = Number(line.slice(b + 1, c));
    if (!asns.has(asn)) continue;
    const start = Number(line.slice(0, a));
    const end = Number(line.slice(a + 1, b));
    if (end - start < 255) continue; // whole /24s at least, so the subnet is the network's
    if (!byAsn.has(asn)) byAsn.set(asn, []);
    byAsn.get(asn).push([start, end]);
  }
  const reader = await maxmind.open(COUNTRY_MMDB);
  const countryOf = (n) => reader.get(ipToString(n))?.country_code ?? "";
  const pools = new Map();
  for (const { asn, country } of needs) {
    const ranges = (byAsn.get(asn) ?? []).filter(([s, e]) => countryOf(s) === country && countryOf(e) === country && !avoided(s));
    const total = ranges.reduce((sum, [s, e]) => sum + (e - s + 1), 0);
    if (ranges.length > 0) pools.set(`${asn}:${country}`, { asn, country, ranges, total });
  }
  return { pools, countryOf };
}

/**
 * A function drawing addresses: `draw(t, asn, country)` returns a host address (not .0 or
 * .255) in that network and country, or throws when the data has none. Addresses never
 * repeat within one `draw` unless `shared` is asked for by the caller (it keeps them).
 */
export function drawer({ pools, countryOf }) {
  const used = new Set();
  return function draw(t, asn, country) {
    const pool = pools.get(`${asn}:${country}`);
    if (pool === undefined) throw new Error(`no address data for AS${asn} in ${country}`);
    for (let attempt = 0; attempt < 50; attempt++) {
      let x = Math.floor(t.random() * pool.total);
      let n = 0;
      for (const [s, e] of pool.ranges) {
        const size = e - s + 1;
        if (x < size) {
          n = s + x;
          break;
        }
        x -= size;
      }
      const last = n & 255;
      if (last === 0 || last === 255 || avoided(n) || used.has(n) || countryOf(n) !== country) continue;
      used.add(n);
      return ipToString(n);
    }
    throw new Error(`could not draw an address in AS${asn} ${country}`);
  };
}

/** Whether a network is available (some listed ASNs may lack a country in the data). */
export const has = ({ pools }, asn, country) => pools.has(`${asn}:${country}`);
