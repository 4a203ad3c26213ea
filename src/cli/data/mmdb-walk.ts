/**
 * Enumerate every network of a MaxMind-format database with the `maxmind` reader's
 * public API: look up the lowest address not yet covered, learn the prefix length of
 * the network holding it, jump past that network. IPv6 is walked at /64 granularity
 * (networks longer than /64 are represented by their first /64), which is what the
 * geo tables store anyway.
 */
import maxmind, { type Reader, type Response } from "maxmind";

/** One network and its record (null where the database has none). */
export interface Network {
  readonly start: bigint;
  readonly end: bigint;
  /** The decoded record; its shape depends on the database type. */
  readonly record: unknown;
}

function v4String(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function v6String(n: bigint): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return parts.join(":");
}

/** Open a database file. */
export function openMmdb(path: string): Promise<Reader<Response>> {
  return maxmind.open<Response>(path);
}

/** Every IPv4 network, in order. */
export function* walkV4(reader: Reader<Response>): Generator<Network> {
  let ip = 0;
  while (ip <= 0xffffffff) {
    const [record, prefix] = reader.getWithPrefixLength(v4String(ip));
    const size = 2 ** (32 - Math.max(prefix, 1));
    yield { start: BigInt(ip), end: BigInt(ip + size - 1), record };
    ip += size;
  }
}

const V6_END = 1n << 128n;

/** Every IPv6 network at /64 granularity, in order. Empty for an IPv4-only database. */
export function* walkV6(reader: Reader<Response>): Generator<Network> {
  if (reader.metadata.ipVersion !== 6) return;
  let ip = 0n;
  while (ip < V6_END) {
    const [record, prefix] = reader.getWithPrefixLength(v6String(ip));
    const size = 1n << BigInt(128 - Math.min(Math.max(prefix, 1), 64));
    yield { start: ip, end: ip + size - 1n, record };
    ip += size;
  }
}
