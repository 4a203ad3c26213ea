/**
 * The client IP, from the platform only. On Cloudflare the edge sets
 * `CF-Connecting-IP` and overwrites any client-sent copy; headers such as
 * `X-Forwarded-For`, `X-Real-IP` or `True-Client-IP` can be set by anyone, so they are
 * never read unless configuration names one as trusted (a deployment behind a proxy
 * that overwrites it).
 */
import ipaddr from "ipaddr.js";

/** A parsed client address and the subnet velocity is keyed on. */
export interface ClientIp {
  readonly address: string;
  readonly version: 4 | 6;
  /** /24 for IPv4, /64 for IPv6, in CIDR notation. */
  readonly subnet: string;
}

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
  return { address: text, version: 4, subnet: `${a}.${b}.${c}.0/24` };
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
    };
  }
  const v6 = addr as ipaddr.IPv6;
  const parts = v6.parts.slice(0, 4).concat([0, 0, 0, 0]);
  return {
    address: v6.toNormalizedString(),
    version: 6,
    subnet: `${ipaddr.fromByteArray(new ipaddr.IPv6(parts).toByteArray()).toString()}/64`,
  };
}

/** The client IP of `headers`, read only from the platform or the configured trusted header. */
export function clientIp(headers: Headers, trustedHeader: string | null): ClientIp | null {
  const raw = headers.get(trustedHeader ?? PLATFORM_IP_HEADER);
  if (raw === null) return null;
  // A trusted proxy header may carry a list; its first entry is the client the proxy saw.
  const first = raw.split(",")[0] ?? "";
  return parseIp(first);
}
