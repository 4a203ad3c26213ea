/**
 * Compile reputation lists into one data pack (build/lists.bin): per address family a
 * range table whose segments point at a "match set" (which lists match, until when,
 * why). Overlapping entries (a Tor exit inside a known-bad range, an allowlisted host
 * inside a hosting range) are flattened by a sweep over range boundaries, so a lookup
 * is one binary search whatever the overlap. Runs at build time only.
 */
import type { IpRange } from "../../shared/ip-key.ts";
import type { ListEntry } from "./list-format.ts";
import { writePack } from "../../shared/pack.ts";
import { encodeTable } from "../../shared/range-table.ts";
import { Interner } from "./interner.ts";

/** A list to compile: its name (from the file name) and entries. */
export interface NamedList {
  readonly name: string;
  readonly entries: readonly ListEntry[];
}

/** One list membership in a match set: [list index, expiry in epoch seconds (0 = never), reason index]. */
export type Membership = readonly [number, number, number];

/** Metadata of the lists pack. */
export interface ListsMeta {
  readonly lists: readonly string[];
  readonly reasons: readonly string[];
  /** Match sets; index 0 is the empty set, table values index this array. */
  readonly sets: readonly (readonly Membership[])[];
  /** AS number → match set index. */
  readonly asns: Readonly<Record<string, number>>;
  readonly entries: number;
  readonly expiredDropped: number;
}

/** Reasons and match sets, each stored once; index 0 is "" and the empty set. */
interface Tables {
  readonly reasons: Interner<string>;
  readonly sets: Interner<Membership[]>;
}

/** Intern the set of memberships of the active entries (one per list: the latest expiry wins). */
function setIndex(i: Tables, active: Iterable<Membership>): number {
  const byList = new Map<number, Membership>();
  for (const m of active) {
    const seen = byList.get(m[0]);
    const later = seen === undefined || (seen[1] !== 0 && (m[1] === 0 || m[1] > seen[1]));
    if (later) byList.set(m[0], m);
  }
  if (byList.size === 0) return 0;
  const set = [...byList.values()].sort((a, b) => a[0] - b[0]);
  return i.sets.add(JSON.stringify(set), set);
}

type RangeItem = { readonly range: IpRange; readonly m: Membership };

/** Flatten possibly overlapping ranges of one family into segments. */
function sweep(i: Tables, items: readonly RangeItem[]): { starts: bigint[]; values: number[] } {
  // Events: +item at its start, -item just past its end. Removals sort first at a tie.
  const events: { at: bigint; add: boolean; id: number }[] = [];
  items.forEach((item, id) => {
    events.push({ at: item.range.start, add: true, id });
    events.push({ at: item.range.end + 1n, add: false, id });
  });
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : Number(a.add) - Number(b.add)));
  const active = new Map<number, Membership>();
  const starts: bigint[] = [];
  const values: number[] = [];
  let e = 0;
  while (e < events.length) {
    const at = events[e]?.at ?? 0n;
    for (; e < events.length && events[e]?.at === at; e++) {
      const ev = events[e];
      if (ev === undefined) break;
      if (ev.add) active.set(ev.id, items[ev.id]?.m ?? [0, 0, 0]);
      else active.delete(ev.id);
    }
    const value = setIndex(i, active.values());
    // Merge neighbours with the same value: fewer segments, same answers.
    if (values.length > 0 && values[values.length - 1] === value) continue;
    if (values.length === 0 && value === 0) continue;
    starts.push(at);
    values.push(value);
  }
  return { starts, values };
}

/** How soon before an entry's expiry the build starts warning about it. */
export const EXPIRY_WARNING_MS = 14 * 86_400_000;

/** Per list: entries dropped as expired, and entries that expire within `EXPIRY_WARNING_MS`. */
export interface ListExpiry {
  readonly list: string;
  readonly expired: number;
  readonly expiringSoon: number;
  /** The earliest expiry among the entries expiring soon (epoch ms); 0 when none. */
  readonly firstExpiry: number;
}

/** What an operator should hear about expiry: lists with dropped or soon-expiring entries. */
export function expiryWarnings(expiry: readonly ListExpiry[]): string[] {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return expiry.flatMap((e) => [
    ...(e.expired > 0 ? [`${e.list}: ${e.expired} expired entries dropped (the list lost them: run \`npx riskgate lists update\` or refresh the snapshot)`] : []),
    ...(e.expiringSoon > 0 ? [`${e.list}: ${e.expiringSoon} entries expire from ${day(e.firstExpiry)}`] : []),
  ]);
}

/** Compile lists; entries already expired at `now` are dropped (and counted per list in `expiry`). */
export function compileLists(lists: readonly NamedList[], now: number): { pack: Uint8Array; meta: ListsMeta; expiry: ListExpiry[] } {
  const i: Tables = { reasons: new Interner<string>(), sets: new Interner<Membership[]>() };
  i.reasons.add("", "");
  i.sets.add("[]", []);
  const v4: RangeItem[] = [];
  const v6: RangeItem[] = [];
  const asnMembers = new Map<number, Membership[]>();
  let entries = 0;
  let expiredDropped = 0;
  const expiry: ListExpiry[] = [];
  lists.forEach((list, listIdx) => {
    let expired = 0;
    let expiringSoon = 0;
    let firstExpiry = 0;
    for (const entry of list.entries) {
      if (entry.expires !== 0 && entry.expires <= now) {
        expired++;
        continue;
      }
      if (entry.expires !== 0 && entry.expires <= now + EXPIRY_WARNING_MS) {
        expiringSoon++;
        firstExpiry = firstExpiry === 0 ? entry.expires : Math.min(firstExpiry, entry.expires);
      }
      entries++;
      const m: Membership = [listIdx, Math.ceil(entry.expires / 1000), i.reasons.add(entry.reason, entry.reason)];
      if ("asn" in entry.target) {
        const members = asnMembers.get(entry.target.asn) ?? [];
        members.push(m);
        asnMembers.set(entry.target.asn, members);
      } else {
        (entry.target.version === 4 ? v4 : v6).push({ range: entry.target, m });
      }
    }
    expiredDropped += expired;
    if (expired > 0 || expiringSoon > 0) expiry.push({ list: list.name, expired, expiringSoon, firstExpiry });
  });
  const t4 = sweep(i, v4);
  const t6 = sweep(i, v6);
  const asns: Record<string, number> = {};
  for (const [asn, members] of asnMembers) asns[String(asn)] = setIndex(i, members);
  const meta: ListsMeta = {
    lists: lists.map((l) => l.name),
    reasons: i.reasons.values,
    sets: i.sets.values,
    asns,
    entries,
    expiredDropped,
  };
  const pack = writePack(meta, {
    v4: encodeTable(1, t4.starts, t4.values),
    v6: encodeTable(4, t6.starts, t6.values),
  });
  return { pack, meta, expiry };
}
