/**
 * The live reputation layer (docs/architecture.md, "Live lists"): entries an operator adds
 * or removes at runtime over the bundled lists (rules/lists/, build/lists.bin). The bundled
 * snapshot stays the floor; a live entry either adds its target to a list (`effect: add`)
 * or takes it off one (`effect: remove`, e.g. release a bundled known-bad range).
 *
 * This module is pure: validating what an operator sends, and the per-isolate index the
 * request path looks addresses up in (one Map lookup per distinct prefix length).
 */
import { addressKey, parseAddress, parseRange } from "./ip-key.ts";

/** What an entry matches. */
export type LiveTargetKind = "ip" | "cidr" | "asn" | "country" | "account";

/** One live entry as stored and listed. */
export interface LiveEntry {
  /**
   * Canonical target: `ip:203.0.113.7`, `cidr:203.0.113.0/24`, `asn:64500`, `country:KP`,
   * or `account:<HMAC>`: the account key the reset path counts under (never the address).
   */
  readonly target: string;
  readonly kind: LiveTargetKind;
  /** The list it adds to (or removes from), e.g. `block`, `known_bad`, `allow`. */
  readonly list: string;
  readonly effect: "add" | "remove";
  readonly reason: string;
  /** Who wrote it: `dashboard`, `cli`, `api`. */
  readonly source: string;
  readonly created_at: number;
  /** ms since epoch; null: until removed. */
  readonly expires_at: number | null;
}

/**
 * An operator's penalty lift as every isolate reads it from the live layer (docs/operations.md,
 * "Lift a penalty box"): the ladder key kind and its HMAC'd entity, never an address. An
 * isolate that sees a lift it has not applied drops its cached blocks for that key.
 */
export interface LiveLift {
  /** The ladder key kind (`ip`, `subnet`, `net56`, `net48`, `account`, `device`). */
  readonly kind: string;
  /** The HMAC'd key the ladders count under. */
  readonly entity: string;
  readonly lifted_at: number;
  /** The longest any isolate may hold a block for the key (penalty.max or a step window). */
  readonly expires_at: number;
}

/** What an isolate reads of the live layer: the hub's version of it, its entries and recent lifts. */
export interface LiveLayer {
  /** Bumped by every write (operator entry, source refresh, lift): unchanged means nothing to re-read. */
  readonly version: number;
  readonly entries: readonly LiveEntry[];
  readonly lifts: readonly LiveLift[];
}

/** What an operator sends to add an entry. */
export interface LiveEntryInput {
  readonly target: string;
  readonly list: string;
  readonly reason: string;
  readonly effect?: "add" | "remove" | undefined;
  /** `30m`, `12h`, `7d`, or null for no expiry. */
  readonly expires?: string | null;
  readonly source?: string;
}

/** The list name operator blocks go to; rules/overrides.yaml denies it (`deny-live-block`). */
export const BLOCK_LIST = "block";
/** Longest reason kept. */
export const MAX_REASON_CHARS = 200;
/** Most live entries held (a bound on the per-isolate index and the hub's table). */
export const MAX_LIVE_ENTRIES = 100_000;

const LIST_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const SOURCE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parse `90s`, `30m`, `12h`, `7d` to ms; null for anything else. Max 366 days. */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (m === null) return null;
  const ms = Number(m[1]) * (UNITS[m[2] ?? ""] ?? 0);
  return ms > 0 && ms <= 366 * 86_400_000 ? ms : null;
}

/**
 * Canonical target of `ip`, `cidr` (host bits refused), `asn` (`AS64500` or `64500`) or a
 * country code; an error message otherwise.
 */
export function canonicalTarget(raw: string): { kind: LiveTargetKind; target: string } | { error: string } {
  const text = raw.trim();
  const asn = /^(?:AS)?(\d{1,10})$/i.exec(text);
  if (asn !== null) {
    const n = Number(asn[1]);
    if (!Number.isInteger(n) || n <= 0 || n > 4_294_967_295) return { error: "ASN out of range" };
    return { kind: "asn", target: `asn:${n}` };
  }
  if (/^[A-Za-z]{2}$/.test(text)) return { kind: "country", target: `country:${text.toUpperCase()}` };
  if (text.includes("/")) {
    const range = parseRange(text, true);
    if ("error" in range) return { error: range.error };
    const prefix = Number(text.slice(text.indexOf("/") + 1));
    const bits = range.version === 4 ? 32 : 128;
    if (prefix === bits) return { kind: "ip", target: `ip:${range.version}:${range.start.toString(16)}` };
    return { kind: "cidr", target: `cidr:${range.version}:${range.start.toString(16)}/${prefix}` };
  }
  const addr = parseAddress(text);
  if (addr === null) return { error: "not an IP address, CIDR, ASN (AS64500) or country code (KP)" };
  return { kind: "ip", target: `ip:${addr.version}:${addr.value.toString(16)}` };
}

/** The live target of an account key (the HMAC `keys.account` of the reset path). */
export function accountTarget(accountKey: string): { kind: "account"; target: string } {
  return { kind: "account", target: `account:${accountKey}` };
}

/**
 * Validate an operator's input into an entry at `now`; throws a message on bad input.
 * `resolved` is a target already made canonical (an account key, HMAC'd by the caller).
 */
export function liveEntry(input: LiveEntryInput, now: number, resolved?: { kind: LiveTargetKind; target: string }): LiveEntry {
  const t = resolved ?? canonicalTarget(String(input.target ?? ""));
  if ("error" in t) throw new Error(t.error);
  if (t.kind === "account" && input.list !== BLOCK_LIST) throw new Error(`accounts can only be put on the list ${BLOCK_LIST}`);
  if (t.kind === "account" && (input.effect ?? "add") !== "add") throw new Error("an account block has effect add");
  if (typeof input.list !== "string" || !LIST_NAME.test(input.list)) throw new Error("list must match [a-z][a-z0-9_]{0,31}");
  if (typeof input.reason !== "string" || input.reason.trim().length === 0) throw new Error("a reason is required");
  const effect = input.effect ?? "add";
  if (effect !== "add" && effect !== "remove") throw new Error("effect must be add or remove");
  const source = input.source ?? "api";
  if (!SOURCE_NAME.test(source)) throw new Error("malformed source");
  let expires: number | null = null;
  if (input.expires !== undefined && input.expires !== null && input.expires !== "") {
    const ms = parseDuration(String(input.expires));
    if (ms === null) throw new Error("expires must be a duration such as 30m, 12h or 7d (at most 366d)");
    expires = now + ms;
  }
  return {
    target: t.target,
    kind: t.kind,
    list: input.list,
    effect,
    // Control characters out: the reason reaches logs and the dashboard.
    reason: input.reason.replace(/\p{Cc}/gu, " ").trim().slice(0, MAX_REASON_CHARS),
    source,
    created_at: now,
    expires_at: expires,
  };
}

/** A readable form of a canonical target (`ip:4:cb007107` → `203.0.113.7`). */
export function displayTarget(target: string): string {
  const m = /^(ip|cidr):(4|6):([0-9a-f]+)(\/\d+)?$/.exec(target);
  if (m === null) return target.replace(/^(asn|country):/, (_, k: string) => (k === "asn" ? "AS" : ""));
  const value = BigInt(`0x${m[3]}`);
  const text =
    m[2] === "4"
      ? [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join(".")
      : Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - i * 16)) & 0xffffn).toString(16)).join(":");
  return `${text}${m[4] ?? ""}`;
}

/** A match: the list and what the entry does to it. */
export interface LiveMatch {
  readonly list: string;
  readonly effect: "add" | "remove";
  readonly reason: string;
}

/** The per-isolate index of live entries. */
export interface LiveIndex {
  /** `${version}/${prefix}` → masked start (hex) → entries. */
  readonly ranges: ReadonlyMap<string, ReadonlyMap<string, readonly LiveEntry[]>>;
  readonly asns: ReadonlyMap<number, readonly LiveEntry[]>;
  readonly countries: ReadonlyMap<string, readonly LiveEntry[]>;
  /** Account key (HMAC) → entries. */
  readonly accounts: ReadonlyMap<string, readonly LiveEntry[]>;
  readonly size: number;
  /** `ranges` with each group's version and prefix parsed once, for the request path. */
  readonly groups: readonly LiveGroup[];
}

/** One prefix length's entries; IPv4 keyed by the masked start as a number (no BigInt, no string). */
export interface LiveGroup {
  readonly version: 4 | 6;
  readonly prefix: number;
  readonly byStart: ReadonlyMap<string, readonly LiveEntry[]>;
  readonly v4ByStart: ReadonlyMap<number, readonly LiveEntry[]> | null;
}

/** Build the index from stored entries. */
export function indexLive(entries: readonly LiveEntry[]): LiveIndex {
  const ranges = new Map<string, Map<string, LiveEntry[]>>();
  const asns = new Map<number, LiveEntry[]>();
  const countries = new Map<string, LiveEntry[]>();
  const accounts = new Map<string, LiveEntry[]>();
  const push = <K>(map: Map<K, LiveEntry[]>, key: K, e: LiveEntry) => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [e]);
    else list.push(e);
  };
  for (const e of entries) {
    const m = /^(ip|cidr|asn|country|account):(.+)$/.exec(e.target);
    if (m === null) continue;
    if (m[1] === "account") push(accounts, m[2] ?? "", e);
    else if (m[1] === "asn") push(asns, Number(m[2]), e);
    else if (m[1] === "country") push(countries, m[2] ?? "", e);
    else {
      const r = /^(4|6):([0-9a-f]+)(?:\/(\d+))?$/.exec(m[2] ?? "");
      if (r === null) continue;
      const bits = r[1] === "4" ? 32 : 128;
      const group = `${r[1]}/${r[3] ?? bits}`;
      let byStart = ranges.get(group);
      if (byStart === undefined) {
        byStart = new Map();
        ranges.set(group, byStart);
      }
      push(byStart, r[2] ?? "", e);
    }
  }
  const groups = [...ranges].map(([group, byStart]): LiveGroup => {
    const [version, prefix] = group.split("/").map(Number) as [4 | 6, number];
    const v4ByStart = version === 4 ? new Map([...byStart].map(([hex, list]) => [Number.parseInt(hex, 16), list] as const)) : null;
    return { version, prefix, byStart, v4ByStart };
  });
  return { ranges, asns, countries, accounts, size: entries.length, groups };
}

/** The unexpired operator block on an account key at `now`, or null (docs/operations.md, "Block an account"). */
export function accountBlock(index: LiveIndex | null, accountKey: string, now: number): LiveMatch | null {
  if (index === null || index.accounts.size === 0) return null;
  const e = (index.accounts.get(accountKey) ?? []).find((x) => x.list === BLOCK_LIST && x.effect === "add" && (x.expires_at === null || x.expires_at > now));
  return e === undefined ? null : { list: e.list, effect: e.effect, reason: e.reason };
}

/** Unexpired live matches of an address, an AS number and a country at `now`. */
export function matchLive(index: LiveIndex | null, address: string | null, asn: number, country: string | null, now: number): LiveMatch[] {
  if (index === null || index.size === 0) return [];
  const found: LiveEntry[] = [];
  if (address !== null && index.groups.length > 0) {
    const key = addressKey(address);
    if (key !== null) {
      // IPv4 as one unsigned word (the bundled lists' fast parse); IPv6 through BigInt.
      const v4 = key.version === 4 ? (key.key[0] ?? 0) : 0;
      const v6 = key.version === 6 ? (parseAddress(address)?.value ?? 0n) : 0n;
      for (const { version, prefix, byStart, v4ByStart } of index.groups) {
        if (version !== key.version) continue;
        let hit: readonly LiveEntry[] | undefined;
        if (v4ByStart !== null) {
          const size = 2 ** (32 - prefix);
          hit = v4ByStart.get(Math.floor(v4 / size) * size);
        } else {
          const shift = BigInt(128 - prefix);
          hit = byStart.get(((v6 >> shift) << shift).toString(16));
        }
        if (hit !== undefined) found.push(...hit);
      }
    }
  }
  if (asn > 0) found.push(...(index.asns.get(asn) ?? []));
  if (country !== null) found.push(...(index.countries.get(country) ?? []));
  return found.filter((e) => e.expires_at === null || e.expires_at > now).map((e) => ({ list: e.list, effect: e.effect, reason: e.reason }));
}
