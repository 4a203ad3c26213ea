/**
 * Special-purpose address blocks (RFC 6890 and its successors) that no geo database
 * should answer for: private, loopback, link-local, shared (CGNAT), documentation,
 * benchmarking, multicast and reserved space. The npm geo data maps some of them to
 * countries (TEST-NET ranges to AU, 2001:db8::/32 to JP); masking them at build means a
 * request from such an address has no local geo instead of a wrong one.
 */
import { parseRange } from "../../shared/ip-key.ts";

const V4 = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
];
const V6 = ["::/8", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8"];

function ranges(list: readonly string[]): [bigint, bigint][] {
  return list.map((cidr) => {
    const r = parseRange(cidr, true);
    if ("error" in r) throw new Error(r.error);
    return [r.start, r.end];
  });
}

/** Reserved ranges per family, as full-width integers. */
export const RESERVED = { v4: ranges(V4), v6: ranges(V6) } as const;

/** Segments with every `mask` range (already in key units) set to "no value" (0). */
export function maskSegments(
  starts: readonly bigint[],
  values: readonly number[],
  masks: readonly (readonly [bigint, bigint])[],
): { starts: bigint[]; values: number[] } {
  const valueAt = (key: bigint): number => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((starts[mid] ?? 0n) <= key) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? 0 : (values[found] ?? 0);
  };
  const inMask = (key: bigint) => masks.some(([a, b]) => key >= a && key <= b);
  const points = new Map<bigint, number>();
  starts.forEach((s, i) => {
    if (!inMask(s)) points.set(s, values[i] ?? 0);
  });
  for (const [a, b] of masks) {
    points.set(a, 0);
    if (!inMask(b + 1n)) points.set(b + 1n, valueAt(b + 1n));
  }
  const sorted = [...points].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out = { starts: [] as bigint[], values: [] as number[] };
  for (const [s, v] of sorted) {
    const last = out.values.length - 1;
    if ((last < 0 && v === 0) || (last >= 0 && out.values[last] === v)) continue;
    out.starts.push(s);
    out.values.push(v);
  }
  return out;
}
