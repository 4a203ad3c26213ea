/**
 * Build build/geo.bin, the local geo database bundled into the Worker.
 *
 * Sources (licences in docs/signals.md):
 * - country: a MaxMind-format database read with `maxmind`: by default
 *   @ip-location-db/geo-whois-asn-country-mmdb; `RISKGATE_GEO_MMDB=/path/City.mmdb`
 *   uses your own (e.g. a licensed GeoLite2/GeoIP2 City: region and coordinates too).
 * - ASN and organisation: @ip-location-db/asn (CSV), or `RISKGATE_ASN_MMDB=/path/ASN.mmdb`.
 * - coordinates when the country database has none: country centroids (centroids.ts).
 *
 * `RISKGATE_GEO_DATA` = `full` (default) | `country` (no ASN tables) | `none` (an empty pack).
 */
import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { GeoMeta, GeoRecord } from "../../context/geo-local.ts";
import { writePack } from "../../shared/pack.ts";
import { encodeTable } from "../../shared/range-table.ts";
import { countryCentroid } from "./centroids.ts";
import { parseCsvLine } from "./csv.ts";
import { openMmdb, walkV4, walkV6 } from "./mmdb-walk.ts";
import { maskSegments, RESERVED } from "./reserved.ts";
import { SegmentBuilder } from "./segments.ts";
import { Interner } from "../../scoring/signals/interner.ts";

/** Build options, from the environment by default. */
export interface GeoBuildOptions {
  readonly level: "full" | "country" | "none";
  readonly countryMmdb: string | null;
  readonly asnMmdb: string | null;
}

const require = createRequire(import.meta.url);

/** The directory of an installed npm package, or a clear error naming it. */
export function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new Error(`${name} is not installed; run npm install (or set RISKGATE_GEO_DATA=none)`);
  }
}

/**
 * Read the options from the environment. Unset, the level is `full` for local builds
 * (npm start, npm test, wrangler dev) and `none` for `wrangler deploy` (which says so in
 * WRANGLER_COMMAND): on Cloudflare request.cf answers, and 2.8 MB of unused data would
 * crowd the 3 MB free-plan bundle limit. Set RISKGATE_GEO_DATA to bundle it anyway.
 */
export function geoOptionsFromEnv(env: NodeJS.ProcessEnv): GeoBuildOptions {
  const deploying = env.WRANGLER_COMMAND !== undefined && env.WRANGLER_COMMAND !== "dev";
  const level = env.RISKGATE_GEO_DATA || (deploying ? "none" : "full");
  if (level !== "full" && level !== "country" && level !== "none") {
    throw new Error(`RISKGATE_GEO_DATA must be full, country or none, not "${level}"`);
  }
  return { level, countryMmdb: env.RISKGATE_GEO_MMDB || null, asnMmdb: env.RISKGATE_ASN_MMDB || null };
}

/** The fields read from any supported database (ip-location-db, GeoLite2/GeoIP2 City, ASN). */
interface AnyRecord {
  country_code?: string;
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  subdivisions?: { iso_code?: string }[];
  location?: { latitude?: number; longitude?: number };
  autonomous_system_number?: number;
  autonomous_system_organization?: string;
}

/** Interns geo records; index 0 means none. */
class Records {
  private readonly records = new Interner<GeoRecord>();

  constructor() {
    this.records.add("", ["", "", null, null]);
  }

  get list(): readonly GeoRecord[] {
    return this.records.values;
  }

  of(raw: unknown): number {
    const rec = raw as AnyRecord | null;
    const country = rec?.country_code ?? rec?.country?.iso_code ?? rec?.registered_country?.iso_code ?? "";
    if (country === "") return 0;
    const region = rec?.subdivisions?.[0]?.iso_code ?? "";
    let lat = rec?.location?.latitude ?? null;
    let lon = rec?.location?.longitude ?? null;
    if (lat === null || lon === null) [lat, lon] = countryCentroid(country) ?? [null, null];
    const record: GeoRecord = [country, region, lat, lon];
    return this.records.add(record.join("|"), record);
  }
}

async function countryTables(path: string, records: Records): Promise<{ v4: SegmentBuilder; v6: SegmentBuilder }> {
  const reader = await openMmdb(path);
  const v4 = new SegmentBuilder(1, 32);
  for (const n of walkV4(reader)) v4.add(n.start, n.end, records.of(n.record));
  const v6 = new SegmentBuilder(2, 128);
  for (const n of walkV6(reader)) v6.add(n.start, n.end, records.of(n.record));
  return { v4, v6 };
}

type AsnTables = { v4: SegmentBuilder; v6: SegmentBuilder; names: Map<number, string> };

async function asnFromMmdb(path: string): Promise<AsnTables> {
  const reader = await openMmdb(path);
  const out: AsnTables = { v4: new SegmentBuilder(1, 32), v6: new SegmentBuilder(2, 128), names: new Map() };
  const note = (raw: unknown) => {
    const r = raw as AnyRecord | null;
    const asn = r?.autonomous_system_number ?? 0;
    if (asn > 0 && !out.names.has(asn)) out.names.set(asn, r?.autonomous_system_organization ?? "");
    return asn;
  };
  for (const n of walkV4(reader)) out.v4.add(n.start, n.end, note(n.record));
  for (const n of walkV6(reader)) out.v6.add(n.start, n.end, note(n.record));
  return out;
}

async function asnFromCsv(dir: string): Promise<AsnTables> {
  const out: AsnTables = { v4: new SegmentBuilder(1, 32), v6: new SegmentBuilder(2, 128), names: new Map() };
  // The "-num" files give ranges as decimal integers: no address parsing at all.
  for (const [file, table] of [["asn-ipv4-num.csv", out.v4], ["asn-ipv6-num.csv", out.v6]] as const) {
    const lines = createInterface({ input: createReadStream(join(dir, file)), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      const [from = "", to = "", asnText = "", org = ""] = parseCsvLine(line);
      const asn = Number(asnText);
      if (!/^\d+$/.test(from) || !/^\d+$/.test(to) || !Number.isInteger(asn) || asn <= 0) continue;
      table.add(BigInt(from), BigInt(to), asn);
      if (!out.names.has(asn)) out.names.set(asn, org);
    }
  }
  return out;
}

/** Encode a table with the reserved address blocks masked out (keys of `words` words). */
function encodeMasked(b: SegmentBuilder, family: "v4" | "v6"): Uint8Array {
  const shift = BigInt((family === "v4" ? 32 : 128) - b.words * 32);
  const masks = RESERVED[family].map(([a, e]) => [a >> shift, e >> shift] as const);
  const masked = maskSegments(b.starts, b.values, masks);
  return encodeTable(b.words, masked.starts, masked.values);
}

/** The names section: count, AS number deltas, byte lengths, UTF-8 bytes (see geo-local.ts). */
function encodeNames(names: Map<number, string>): Uint8Array {
  const asns = [...names.keys()].sort((a, b) => a - b);
  const encoder = new TextEncoder();
  const encoded = asns.map((a) => encoder.encode(names.get(a) ?? ""));
  const head: number[] = [];
  const push = (n: number) => {
    let v = n;
    do {
      const low = v % 128;
      v = Math.floor(v / 128);
      head.push(v > 0 ? low | 0x80 : low);
    } while (v > 0);
  };
  push(asns.length);
  let prev = 0;
  for (const a of asns) {
    push(a - prev);
    prev = a;
  }
  for (const e of encoded) push(e.byteLength);
  const total = encoded.reduce((n, e) => n + e.byteLength, 0);
  const out = new Uint8Array(head.length + total);
  out.set(head, 0);
  let at = head.length;
  for (const e of encoded) {
    out.set(e, at);
    at += e.byteLength;
  }
  return out;
}

/** Build the geo pack. */
export async function buildGeoPack(options: GeoBuildOptions): Promise<{ pack: Uint8Array; ranges: number }> {
  const sources: GeoMeta["sources"][number][] = [];
  if (options.level === "none") {
    return { pack: writePack<GeoMeta>({ records: [["", "", null, null]], sources, level: "none" }, {}), ranges: 0 };
  }
  const records = new Records();
  const countryPath = options.countryMmdb ?? join(packageDir("@ip-location-db/geo-whois-asn-country-mmdb"), "geo-whois-asn-country.mmdb");
  sources.push(
    options.countryMmdb === null
      ? { name: "@ip-location-db/geo-whois-asn-country-mmdb (GeoFeed + WHOIS + ASN)", licence: "CC0-1.0 package; data CC BY 4.0 NRO (attribution: nro.net)" }
      : { name: `RISKGATE_GEO_MMDB (${options.countryMmdb})`, licence: "as licensed to you" },
  );
  const country = await countryTables(countryPath, records);
  sources.push({ name: "@rapideditor/country-coder (country centroids)", licence: "ISC" });
  const sections: Record<string, Uint8Array> = {
    geo4: encodeMasked(country.v4, "v4"),
    geo6: encodeMasked(country.v6, "v6"),
  };
  let ranges = country.v4.starts.length + country.v6.starts.length;
  if (options.level === "full") {
    const asn = options.asnMmdb === null ? await asnFromCsv(packageDir("@ip-location-db/asn")) : await asnFromMmdb(options.asnMmdb);
    sources.push(
      options.asnMmdb === null
        ? { name: "@ip-location-db/asn (RouteViews + RIR + DB-IP ASN Lite)", licence: "CC BY 4.0 (attribution: routeviews.org, nro.net, db-ip.com)" }
        : { name: `RISKGATE_ASN_MMDB (${options.asnMmdb})`, licence: "as licensed to you" },
    );
    sections.asn4 = encodeMasked(asn.v4, "v4");
    sections.asn6 = encodeMasked(asn.v6, "v6");
    sections.asnNames = encodeNames(asn.names);
    ranges += asn.v4.starts.length + asn.v6.starts.length;
  }
  return { pack: writePack<GeoMeta>({ records: records.list, sources, level: options.level }, sections), ranges };
}
