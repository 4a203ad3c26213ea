/**
 * IP addresses and CIDR ranges as the fixed-width integers range tables are keyed on.
 * Parsing is strict (dotted-quad IPv4 without leading zeros, standard IPv6, bounded
 * length) because list files and fetched sources are untrusted text.
 */
import ipaddr from "ipaddr.js";

/** An inclusive range of one address family, as unsigned integers. */
export interface IpRange {
  readonly version: 4 | 6;
  readonly start: bigint;
  readonly end: bigint;
}

const V4_BITS = 32;
const V6_BITS = 128;

function bytesToBigInt(bytes: readonly number[]): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/** Parse one address to bytes; IPv4-mapped IPv6 becomes IPv4. `null` for anything else. */
function parseBytes(text: string): { version: 4 | 6; bytes: number[] } | null {
  if (text.length === 0 || text.length > 45) return null;
  // ipaddr.isValid accepts classful and octal shorthands ("1.2.3", "010.0.0.1"); lists
  // are written by people, so only the unambiguous forms count.
  const isV4 = ipaddr.IPv4.isValidFourPartDecimal(text) && !/(^|\.)0\d/.test(text);
  if (!isV4 && (!text.includes(":") || !ipaddr.IPv6.isValid(text) || text.includes("%"))) return null;
  let addr = ipaddr.parse(text);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  return { version: addr.kind() === "ipv4" ? 4 : 6, bytes: addr.toByteArray() };
}

/** Parse one address to an unsigned integer; IPv4-mapped IPv6 becomes IPv4. */
export function parseAddress(text: string): { version: 4 | 6; value: bigint } | null {
  const parsed = parseBytes(text);
  return parsed === null ? null : { version: parsed.version, value: bytesToBigInt(parsed.bytes) };
}

/** Parse `a.b.c.d`, `a.b.c.d/n`, `x::y/n` or `a-b` into a range; `strict` rejects host bits. */
export function parseRange(text: string, strict: boolean): IpRange | { error: string } {
  const dash = text.indexOf("-");
  if (dash > 0) {
    const a = parseAddress(text.slice(0, dash));
    const b = parseAddress(text.slice(dash + 1));
    if (a === null || b === null) return { error: `not an address range: ${clip(text)}` };
    if (a.version !== b.version) return { error: `range mixes IPv4 and IPv6: ${clip(text)}` };
    if (b.value < a.value) return { error: `range ends before it starts: ${clip(text)}` };
    return { version: a.version, start: a.value, end: b.value };
  }
  const slash = text.indexOf("/");
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return { error: `not an IP address or CIDR: ${clip(text)}` };
  const bits = addr.version === 4 ? V4_BITS : V6_BITS;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    // An IPv4-mapped IPv6 CIDR (::ffff:a.b.c.d/120) is an IPv4 CIDR 96 bits shorter.
    const mapped = addr.version === 4 && text.includes(":");
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > (mapped ? V6_BITS : bits)) return { error: `bad prefix length: ${clip(text)}` };
    prefix = mapped ? Number(p) - 96 : Number(p);
    if (prefix < 0) return { error: `bad prefix length: ${clip(text)}` };
  }
  const hostBits = BigInt(bits - prefix);
  const mask = (1n << hostBits) - 1n;
  const start = addr.value & ~mask;
  if (strict && start !== addr.value) return { error: `host bits set in ${clip(text)}; the network is ${format(addr.version, start)}/${prefix}` };
  return { version: addr.version, start, end: start | mask };
}

function clip(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** Format an integer address (for messages). */
export function format(version: 4 | 6, value: bigint): string {
  const bytes: number[] = [];
  const n = version === 4 ? 4 : 16;
  for (let i = n - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const FULL_V6 = /^[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7}$/;

/**
 * Fast path for the forms `parseIp` produces (dotted quad; IPv6 with all eight groups):
 * this runs on every request, and ipaddr.js's general parser is ten times slower.
 */
function fastKey(address: string): { version: 4 | 6; key: Uint32Array } | null {
  const m = DOTTED.exec(address);
  if (m !== null) {
    const [a, b, c, d] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    if (a > 255 || b > 255 || c > 255 || d > 255 || /(^|\.)0\d/.test(address)) return null;
    return { version: 4, key: Uint32Array.of(((a << 24) | (b << 16) | (c << 8) | d) >>> 0) };
  }
  if (!FULL_V6.test(address)) return null;
  const g = address.split(":").map((x) => Number.parseInt(x, 16));
  // IPv4-mapped addresses go the slow way, which turns them into IPv4.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) return null;
  const key = new Uint32Array(4);
  for (let w = 0; w < 4; w++) key[w] = (((g[w * 2] ?? 0) << 16) | (g[w * 2 + 1] ?? 0)) >>> 0;
  return { version: 6, key };
}

/** The lookup key of a normalised address: 1 word for IPv4, 4 for IPv6 (most significant first). */
export function addressKey(address: string): { version: 4 | 6; key: Uint32Array } | null {
  const fast = fastKey(address);
  if (fast !== null) return fast;
  const parsed = parseBytes(address);
  if (parsed === null) return null;
  const { bytes } = parsed;
  const key = new Uint32Array(bytes.length / 4);
  for (let w = 0; w < key.length; w++) {
    const i = w * 4;
    key[w] = (((bytes[i] ?? 0) << 24) | ((bytes[i + 1] ?? 0) << 16) | ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0)) >>> 0;
  }
  return { version: parsed.version, key };
}
