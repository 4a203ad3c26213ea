/**
 * The local geo database: country (and, with a City database, region and location)
 * and ASN ranges compiled at build from MaxMind-format and CSV data into
 * build/geo.bin (see src/cli/geo-build.ts), decoded here once per isolate.
 */
import { addressKey } from "../shared/ip-key.ts";
import { readPack } from "../shared/pack.ts";
import { decodeTable, lookupRange, type RangeTable } from "../shared/range-table.ts";
import type { ClientIp } from "./client-ip.ts";

/** A geo record: ISO country, region code, latitude, longitude (null when unknown). */
export type GeoRecord = readonly [string, string, number | null, number | null];

/** Metadata of the geo pack. */
export interface GeoMeta {
  /** Index 0 is "no record"; the location tables' values index this array. */
  readonly records: readonly GeoRecord[];
  /** Where the data came from and under which licence (shown by docs and the build). */
  readonly sources: readonly { readonly name: string; readonly licence: string }[];
  /** `full`, `country` or `none`, as the build was configured. */
  readonly level: string;
}

/** What the local database knows about an address. */
export interface LocalGeoResult {
  readonly country: string;
  readonly region: string;
  readonly asn: number;
  readonly asOrg: string;
  readonly lat: number | null;
  readonly lon: number | null;
}

/** Sorted AS numbers with their organisation names, decoded lazily. */
interface AsnNames {
  readonly asns: Uint32Array;
  readonly offsets: Uint32Array;
  readonly bytes: Uint8Array;
}

function varints(bytes: Uint8Array): () => number {
  let pos = 0;
  return () => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[pos++];
      if (b === undefined) throw new Error("truncated ASN names");
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
  };
}

/** Decode the ASN names section: count, AS number deltas, byte lengths, then UTF-8 bytes. */
function decodeNames(section: Uint8Array): AsnNames {
  if (section.byteLength === 0) return { asns: new Uint32Array(0), offsets: new Uint32Array(1), bytes: section };
  const next = varints(section);
  const count = next();
  const asns = new Uint32Array(count);
  let asn = 0;
  for (let i = 0; i < count; i++) asns[i] = asn += next();
  const offsets = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) offsets[i + 1] = (offsets[i] ?? 0) + next();
  const total = offsets[count] ?? 0;
  return { asns, offsets, bytes: section.subarray(section.byteLength - total) };
}

const decoder = new TextDecoder();

function nameOf(names: AsnNames, asn: number): string {
  let lo = 0;
  let hi = names.asns.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = names.asns[mid] ?? 0;
    if (v === asn) return decoder.decode(names.bytes.subarray(names.offsets[mid] ?? 0, names.offsets[mid + 1] ?? 0));
    if (v < asn) lo = mid + 1;
    else hi = mid - 1;
  }
  return "";
}

/** A decoded local geo database. */
export interface LocalGeo {
  readonly meta: GeoMeta;
  lookup(ip: ClientIp): LocalGeoResult | null;
}

/** Decode a geo pack (build/geo.bin). */
export function loadLocalGeo(data: ArrayBuffer | Uint8Array): LocalGeo {
  const pack = readPack<GeoMeta>(data);
  const tables: Record<string, RangeTable> = {};
  for (const name of ["geo4", "geo6", "asn4", "asn6"]) tables[name] = decodeTable(pack.section(name));
  const names = decodeNames(pack.section("asnNames"));
  const { records } = pack.meta;
  return {
    meta: pack.meta,
    lookup(ip) {
      const parsed = addressKey(ip.address);
      if (parsed === null) return null;
      const v = parsed.version === 4 ? "4" : "6";
      const geoTable = tables[`geo${v}`];
      const asnTable = tables[`asn${v}`];
      const record = geoTable === undefined ? undefined : records[lookupRange(geoTable, parsed.key)];
      const asn = asnTable === undefined ? 0 : lookupRange(asnTable, parsed.key);
      if ((record === undefined || record[0] === "") && asn === 0) return null;
      return {
        country: record?.[0] ?? "",
        region: record?.[1] ?? "",
        asn,
        asOrg: asn === 0 ? "" : nameOf(names, asn),
        lat: record?.[2] ?? null,
        lon: record?.[3] ?? null,
      };
    },
  };
}
