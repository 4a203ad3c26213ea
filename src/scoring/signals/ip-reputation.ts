/**
 * IP reputation signal: which lists under rules/lists/ the client IP (or its ASN)
 * is on. The lists are compiled at build into build/lists.bin; here they are decoded
 * once per isolate and looked up with one binary search per address family.
 */
import type { ClientIp } from "../../context/client-ip.ts";
import { addressKey } from "../../shared/ip-key.ts";
import type { ListsMeta, Membership } from "./list-compile.ts";
import { readPack } from "../../shared/pack.ts";
import { decodeTable, lookupRange, type RangeTable } from "../../shared/range-table.ts";
import { type LiveIndex, matchLive } from "../../shared/live-list.ts";

/** Facts exposed to rules under `ip.*` (besides `known` and `version`). */
export interface ReputationFacts {
  readonly tor_exit: boolean;
  readonly hosting: boolean;
  readonly vpn: boolean;
  readonly known_bad: boolean;
  readonly allowlisted: boolean;
  /** Every list that matched, by name (file name with `-` as `_`), e.g. `["tor_exits"]`. */
  readonly lists: readonly string[];
  /** The reason written beside the first matching entry, or "". */
  readonly list_reason: string;
}

/** List names behind the fixed boolean facts. */
const NAMED = {
  tor_exit: "tor_exits",
  hosting: "hosting",
  vpn: "vpn",
  known_bad: "known_bad",
  allowlisted: "allow",
} as const;

/** Compiled lists, ready for lookups. */
export interface ReputationLists {
  readonly meta: ListsMeta;
  readonly v4: RangeTable;
  readonly v6: RangeTable;
}

/** Decode a lists pack (build/lists.bin). */
export function loadReputationLists(data: ArrayBuffer | Uint8Array): ReputationLists {
  const pack = readPack<ListsMeta>(data);
  return { meta: pack.meta, v4: decodeTable(pack.section("v4")), v6: decodeTable(pack.section("v6")) };
}

const NONE: ReputationFacts = {
  tor_exit: false,
  hosting: false,
  vpn: false,
  known_bad: false,
  allowlisted: false,
  lists: [],
  list_reason: "",
};

/** Memberships of an address and an AS number that have not expired at `now`. */
export function matchLists(lists: ReputationLists, ip: ClientIp | null, asn: number, now: number): Membership[] {
  const out: Membership[] = [];
  const nowSeconds = now / 1000;
  const collect = (setIdx: number) => {
    for (const m of lists.meta.sets[setIdx] ?? []) if (m[1] === 0 || m[1] > nowSeconds) out.push(m);
  };
  if (ip !== null) {
    const parsed = addressKey(ip.address);
    if (parsed !== null) collect(lookupRange(parsed.version === 4 ? lists.v4 : lists.v6, parsed.key));
  }
  if (asn > 0) collect(lists.meta.asns[String(asn)] ?? 0);
  return out;
}

/**
 * Reputation facts for the client IP and the ASN geo resolved for it: the bundled lists
 * (the floor) with the live layer (src/shared/live-list.ts) over them. A live `add` puts
 * the address on a list; a live `remove` takes it off one (bundled memberships included).
 */
export function reputationFacts(
  lists: ReputationLists | null,
  ip: ClientIp | null,
  asn: number,
  now: number,
  live: LiveIndex | null = null,
  country: string | null = null,
): ReputationFacts {
  const matches = lists === null ? [] : matchLists(lists, ip, asn, now);
  const liveMatches = matchLive(live, ip?.address ?? null, asn, country, now);
  if (matches.length === 0 && liveMatches.length === 0) return NONE;
  const removed = new Set(liveMatches.filter((m) => m.effect === "remove").map((m) => m.list));
  const found = [
    ...matches.map((m) => ({ list: lists?.meta.lists[m[0]] ?? "", reason: lists?.meta.reasons[m[2]] ?? "" })),
    ...liveMatches.filter((m) => m.effect === "add"),
  ].filter((m) => !removed.has(m.list));
  if (found.length === 0) return NONE;
  const names = [...new Set(found.map((m) => m.list))];
  return {
    tor_exit: names.includes(NAMED.tor_exit),
    hosting: names.includes(NAMED.hosting),
    vpn: names.includes(NAMED.vpn),
    known_bad: names.includes(NAMED.known_bad),
    allowlisted: names.includes(NAMED.allowlisted),
    lists: names,
    list_reason: found.map((m) => m.reason).find((r) => r.length > 0) ?? "",
  };
}
