/**
 * The client IP, from the platform only. On Cloudflare the edge sets
 * `CF-Connecting-IP` and overwrites any client-sent copy; headers such as
 * `X-Forwarded-For`, `X-Real-IP` or `True-Client-IP` can be set by anyone, so they are
 * never read unless configuration names one as trusted (a deployment behind a proxy
 * that overwrites it).
 */
import ipaddr from "ipaddr.js";

/** A parsed client address and the subnets velocity is keyed on. */
export interface ClientIp {
  readonly address: string;
  readonly version: 4 | 6;
  /** /24 for IPv4, /64 for IPv6, in CIDR notation. */
  readonly subnet: string;
  /**
   * IPv6 only: the /56 and /48 around the address. A home or a small VPS gets a /56 or a
   * /48, so rotating /64s inside one escapes a /64 limit; these keys have ladders of their own.
   */
  readonly net56: string | null;
  readonly net48: string | null;
}

/**
 * The store key shared by every request whose address is missing or does not parse. Such
 * a request is still counted (one ladder for all of them) instead of skipping the IP and
 * subnet limits; the rule `ip-unparseable` adds the reason IP_UNPARSEABLE. Not an HMAC: it
 * names no one, and no HMAC output can equal it.
 */
export const UNPARSEABLE_ADDRESS_KEY = "unparseable-address";

/** The header the platform sets. */
export const PLATFORM_IP_HEADER = "cf-connecting-ip";

/** Dotted-quad IPv4 without leading zeros: what platforms send, and ipaddr.js's four-part decimal. */
const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/**
 * The common case without ipaddr.js: a dotted-quad IPv4 is already in normal form.
 * ipaddr.js's parse costs more than the rest of the screen stage (src/reset/screen.ts);
 * test/unit/client-ip.test.ts checks both paths agree on arbitrary input.
 */
function parseDottedQuad(text: string): ClientIp | null {
  const m = DOTTED_QUAD.exec(text);
  if (m === null) return null;
  const [, a = "", b = "", c = "", d = ""] = m;
  if (Number(a) > 255 || Number(b) > 255 || Number(c) > 255 || Number(d) > 255) return null;
  return { address: text, version: 4, subnet: `${a}.${b}.${c}.0/24`, net56: null, net48: null };
}

/** Parse and normalise one address; `null` for anything that is not an IP. */
export function parseIp(text: string): ClientIp | null {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > 64) return null;
  return parseDottedQuad(trimmed) ?? parseWithIpaddr(trimmed);
}

/** Any address, through ipaddr.js (exported for the differential test of the fast path). */
export function parseWithIpaddr(trimmed: string): ClientIp | null {
  // ipaddr.isValid also accepts classful shorthands ("1.2.3", "0x7f.1"); platforms never
  // send those, so only dotted-quad IPv4 and standard IPv6 count as addresses.
  if (!ipaddr.IPv4.isValidFourPartDecimal(trimmed) && !ipaddr.IPv6.isValid(trimmed)) return null;
  let addr = ipaddr.parse(trimmed);
  // An IPv4-mapped IPv6 address is the IPv4 client; key it as such so it shares limits.
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  if (addr.kind() === "ipv4") {
    const bytes = addr.toByteArray();
    return {
      address: addr.toString(),
      version: 4,
      subnet: `${bytes[0]}.${bytes[1]}.${bytes[2]}.0/24`,
      net56: null,
      net48: null,
    };
  }
  const v6 = addr as ipaddr.IPv6;
  return {
    address: v6.toNormalizedString(),
    version: 6,
    subnet: prefixOf(v6.parts, 64),
    net56: prefixOf(v6.parts, 56),
    net48: prefixOf(v6.parts, 48),
  };
}

/** The /`bits` network of an IPv6 address (bits a multiple of 8), in CIDR notation. */
function prefixOf(parts: readonly number[], bits: 48 | 56 | 64): string {
  const kept = parts.map((part, i) => {
    const from = i * 16;
    if (from + 16 <= bits) return part;
    if (from >= bits) return 0;
    return part & (0xffff << (16 - (bits - from)));
  });
  return `${new ipaddr.IPv6(kept).toString()}/${bits}`;
}

/**
 * The client IP of `headers`, read only from the platform or the configured trusted header.
 * A list-valued header (`X-Forwarded-For: client, proxy1, proxy2`) is read from the right:
 * each proxy appends the address it received from, so only the last `trustedHops` entries
 * were written by proxies we trust, and the entry `trustedHops` from the right is the
 * client they saw. Everything left of it is whatever the client wrote (nginx's
 * `real_ip_recursive`, MDN on X-Forwarded-For). `null`: no usable address (counted under
 * UNPARSEABLE_ADDRESS_KEY, never skipped).
 */
export function clientIp(headers: Headers, trustedHeader: string | null, trustedHops = 1): ClientIp | null {
  const raw = headers.get(trustedHeader ?? PLATFORM_IP_HEADER);
  if (raw === null) return null;
  if (!raw.includes(",")) return parseIp(raw);
  const entries = raw.split(",");
  const entry = entries[entries.length - Math.max(1, trustedHops)];
  return entry === undefined ? null : parseIp(entry);
}
