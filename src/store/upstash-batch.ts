/**
 * Redis key layout and the translation between port requests and the Lua scripts'
 * KEYS/ARGV and replies. Replies are parsed strictly: anything unexpected is a
 * STORE_BAD_RESPONSE, never a silently wrong count.
 *
 * Keys (every part after the kind is already an HMAC or a bucket number):
 *   rg:w:<windowMs>:<key>:<bucket>        window hit counter (string, PEXPIREAT)
 *   rg:d:<windowMs>:<key>:<bucket>        distinct members (HyperLogLog, PEXPIREAT)
 *   rg:h:<key>:dev|cc|asn                 history (sorted sets scored by time)
 *   rg:h:<key>:last                       last verified location (hash lat, lon, at)
 *   rg:h:<key>:tag                        origin's privileged tag (hash privileged 1|0, at)
 *   rg:p:<key>                            penalty (hash level, until)
 *   rg:rl:<limit>:<windowMs>:<key>:<bucket>  rate-limit sliding window (@upstash/ratelimit's layout)
 *   rg:t:<experiment>                     tallies (hash arm|counter[|day] -> integer)
 *   rg:te:<experiment>:<eventKey>         tally de-duplication marker
 *   rg:r:<first 3 chars of key>           account roster bucket (hash rest of key -> 1)
 *   rg:r:loaded                           roster marker (string: as-of, epoch ms); absent: off
 *
 * The roster is bucketed (64^3 = 262,144 hashes) so that each bucket stays a small
 * listpack-encoded hash up to tens of millions of accounts, instead of one Redis key (with
 * its per-key overhead) per account: bytes per account in docs/store.md, "Account roster".
 */
import { MAX_PENALTY_LEVEL, readPenalty, type StoredPenalty } from "./penalty.ts";
import type {
  AccountHistory,
  HistoryUpdate,
  ObserveRequest,
  PenaltyLift,
  PenaltyState,
  PenaltyUpdate,
  RateLimitResult,
  RosterAnswer,
  RosterStatus,
  RosterUpdate,
  TallyRow,
  TallyUpdate,
} from "./port.ts";
import { HISTORY_LIMIT, HISTORY_RETENTION_MS, StoreError, TALLY_EVENT_TTL_MS } from "./port.ts";
import { parseTallyField, tallyFields } from "./tally.ts";
import { rateLimitPrefix } from "./ephemeral.ts";
import { bucketExpiresAt, bucketOf, slidingCount } from "./window.ts";

/** KEYS and ARGV for one script call. */
export interface ScriptCall {
  readonly keys: string[];
  readonly args: string[];
}

/** The roster bucket and field of a key (HMAC'd, base64url, 22 characters). */
export function rosterSlot(key: string): { bucket: string; field: string } {
  return { bucket: `rg:r:${key.slice(0, 3)}`, field: key.slice(3) };
}
/** The roster marker: its value is the as-of of the loaded roster. */
export const ROSTER_MARKER = "rg:r:loaded";

const historyKeys = (key: string) => ["dev", "cc", "asn", "last", "tag"].map((part) => `rg:h:${key}:${part}`);
const bucketKey = (kind: "w" | "d", key: string, windowMs: number, bucket: number) =>
  `rg:${kind}:${windowMs}:${key}:${bucket}`;

/** The observe script's call, or null when the request needs nothing from it. */
export function observeCall(request: ObserveRequest): ScriptCall | null {
  const { now, hits, distinct, historyKey } = request;
  const penalties = request.penalties ?? [];
  const limits = request.limits ?? [];
  const rosterKey = request.rosterKey ?? null;
  if (hits.length + distinct.length + penalties.length + limits.length === 0 && historyKey === null && rosterKey === null) return null;
  const keys: string[] = [];
  const counts = [hits.length, distinct.length, historyKey === null ? 0 : 1, penalties.length, HISTORY_LIMIT, limits.length];
  const args = [...counts, now, rosterKey === null ? 0 : 1].map(String);
  for (const { key, windowMs } of hits) {
    const bucket = bucketOf(now, windowMs);
    keys.push(bucketKey("w", key, windowMs, bucket), bucketKey("w", key, windowMs, bucket - 1));
    args.push(String(bucketExpiresAt(bucket, windowMs)));
  }
  for (const { key, member, windowMs } of distinct) {
    const bucket = bucketOf(now, windowMs);
    keys.push(bucketKey("d", key, windowMs, bucket), bucketKey("d", key, windowMs, bucket - 1));
    args.push(member, String(bucketExpiresAt(bucket, windowMs)));
  }
  if (historyKey !== null) keys.push(...historyKeys(historyKey));
  for (const p of penalties) keys.push(`rg:p:${p.key}`);
  for (const check of limits) {
    const bucket = bucketOf(now, check.windowMs);
    const prefix = `${rateLimitPrefix(check)}:${check.key}`;
    keys.push(`${prefix}:${bucket}`, `${prefix}:${bucket - 1}`);
    args.push(String(check.limit), String(check.windowMs), String(bucketExpiresAt(bucket, check.windowMs)));
  }
  if (rosterKey !== null) {
    const { bucket, field } = rosterSlot(rosterKey);
    keys.push(bucket, ROSTER_MARKER);
    args.push(field);
  }
  return { keys, args };
}

/** The roster script's call: added keys' buckets, removed keys' buckets, the marker. */
export function rosterCall(update: RosterUpdate): ScriptCall {
  const slots = [...update.add, ...update.remove].map(rosterSlot);
  const op = update.loaded === null ? "" : update.loaded ? "1" : "0";
  return {
    keys: [...slots.map((s) => s.bucket), ROSTER_MARKER],
    args: [String(update.add.length), op, String(update.at), ...slots.map((s) => s.field)],
  };
}

/** The roster script's reply (the marker) → the roster's status. */
export function parseRosterStatus(reply: unknown): RosterStatus {
  if (reply === null || reply === false) return { loaded: false, loadedAt: null };
  const at = typeof reply === "string" ? Number(reply) : Number.NaN;
  return Number.isSafeInteger(at) ? { loaded: true, loadedAt: at } : bad("roster marker");
}

/** The observe script's roster part {marker or false, listed 0|1} → the answer. */
function parseRoster(value: unknown): RosterAnswer {
  const [marker, listed] = list(value, "roster");
  if (parseRosterStatus(marker === undefined ? null : marker).loaded === false) return "off";
  return int(listed, "roster membership") === 1 ? "listed" : "absent";
}

function bad(what: string): never {
  throw new StoreError("STORE_BAD_RESPONSE", `upstash returned an unexpected ${what}`);
}

function list(value: unknown, what: string): unknown[] {
  return Array.isArray(value) ? value : bad(what);
}

function int(value: unknown, what: string): number {
  const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) ? n : bad(what);
}

function num(value: unknown, what: string): number {
  const n = typeof value === "number" || typeof value === "string" ? Number(value) : Number.NaN;
  return Number.isFinite(n) && value !== "" ? n : bad(what);
}

function flag(value: unknown, what: string): boolean {
  return value === "1" || value === 1 ? true : value === "0" || value === 0 ? false : bad(what);
}

function strings(value: unknown, what: string): string[] {
  return list(value, what).map((v) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : bad(what)));
}

function parseHistory(value: unknown): AccountHistory | null {
  const parts = list(value, "history");
  if (parts.length === 0) return null;
  const [devices, countries, asns, last, tag] = [0, 1, 2, 3, 4].map((i) => parts[i]);
  const [lat, lon, at] = list(last, "last verified");
  const [privileged] = list(tag, "tag");
  const history: AccountHistory = {
    devices: strings(devices, "devices"),
    countries: strings(countries, "countries"),
    asns: strings(asns, "asns").map((a) => int(a, "asn")),
    lastVerified: at === null || at === undefined ? null : { lat: num(lat, "lat"), lon: num(lon, "lon"), at: int(at, "at") },
    privileged: privileged === null || privileged === undefined ? false : flag(privileged, "privileged tag"),
  };
  const empty = history.devices.length + history.countries.length + history.asns.length === 0;
  return empty && history.lastVerified === null && !history.privileged ? null : history;
}

function storedPenalty(value: unknown): StoredPenalty | null {
  const [level, until] = list(value, "penalty");
  if (level === null || level === undefined) return null;
  return { level: int(level, "penalty level"), until: int(until, "penalty end") };
}

/** The observe script's reply → counts, distinct counts, history and penalties. */
export function parseObserve(
  request: ObserveRequest,
  reply: unknown,
): {
  counts: number[];
  distinct: number[];
  history: AccountHistory | null;
  penalties: PenaltyState[];
  limits: RateLimitResult[];
  roster?: RosterAnswer;
} {
  const [hits, distinct, history, penalties, limits, roster] = list(reply, "observe reply");
  const hitPairs = list(hits, "hits");
  const counts = request.hits.map(({ windowMs }, i) => {
    const [current, previous] = list(hitPairs[i], "hit");
    return slidingCount(request.now, windowMs, int(current, "count"), int(previous, "count"));
  });
  const distinctCounts = list(distinct, "distinct");
  const penaltyReplies = list(penalties, "penalties");
  const checks = request.penalties ?? [];
  if (hitPairs.length !== request.hits.length || distinctCounts.length !== request.distinct.length) bad("batch size");
  if (penaltyReplies.length !== checks.length) bad("batch size");
  return {
    counts,
    distinct: distinctCounts.map((n) => int(n, "distinct count")),
    history: request.historyKey === null ? null : parseHistory(history),
    penalties: checks.map((check, i) => readPenalty(storedPenalty(penaltyReplies[i]), request.now, check.policy)),
    limits: parseLimits(request, limits),
    ...(request.rosterKey == null ? {} : { roster: parseRoster(roster) }),
  };
}

/** Per rate limit {consumed, current, weighted previous} → the check's result. */
function parseLimits(request: ObserveRequest, value: unknown): RateLimitResult[] {
  const checks = request.limits ?? [];
  const replies = list(value, "limits");
  if (replies.length !== checks.length) bad("batch size");
  return checks.map(({ limit, windowMs }, i) => {
    const [consumed, current, weighted] = list(replies[i], "limit");
    const reset = (bucketOf(request.now, windowMs) + 1) * windowMs;
    if (int(consumed, "limit verdict") !== 1) return { success: false, remaining: 0, reset };
    return { success: true, remaining: Math.max(0, limit - (int(current, "count") + int(weighted, "count"))), reset };
  });
}

/** The history script's call. */
export function historyCall(update: HistoryUpdate): ScriptCall {
  const { device, country, asn, location, at, privileged } = update;
  return {
    keys: historyKeys(update.historyKey),
    args: [
      String(at), String(at + HISTORY_RETENTION_MS), String(HISTORY_LIMIT),
      device ?? "", country ?? "", asn === null ? "" : String(asn),
      location === null ? "" : String(location.lat), location === null ? "" : String(location.lon),
      privileged === undefined ? "" : privileged.value ? "1" : "0", privileged === undefined ? "" : String(privileged.at),
    ],
  };
}

/** The penalize script's call (see penalty.ts for what the numbers mean). */
export function penalizeCall({ key, now, policy }: PenaltyUpdate): ScriptCall {
  const { baseMs, factor, maxMs, decayMs } = policy;
  return { keys: [`rg:p:${key}`], args: [now, baseMs, factor, maxMs, decayMs, MAX_PENALTY_LEVEL].map(String) };
}

/** The penalize script's reply. */
export function parsePenalty(reply: unknown): PenaltyState {
  const [level, until] = list(reply, "penalty");
  return { level: int(level, "penalty level"), until: int(until, "penalty end") };
}

/** The lift script's call: penalty keys, then each rate limit's current and previous bucket. */
export function liftCall(lift: PenaltyLift): ScriptCall {
  const keys = lift.penalties.map((key) => `rg:p:${key}`);
  for (const check of lift.limits) {
    const bucket = bucketOf(lift.now, check.windowMs);
    const prefix = `${rateLimitPrefix(check)}:${check.key}`;
    keys.push(`${prefix}:${bucket}`, `${prefix}:${bucket - 1}`);
  }
  return { keys, args: [String(lift.penalties.length), String(lift.now)] };
}

/** The tally script's call. */
export function tallyCall(update: TallyUpdate): ScriptCall {
  const keys = [`rg:t:${update.experiment}`];
  if (update.eventKey !== null) keys.push(`rg:te:${update.experiment}:${update.eventKey}`);
  const args = [String(update.now + TALLY_EVENT_TTL_MS)];
  for (const [field, amount] of tallyFields(update)) args.push(field, String(amount));
  return { keys, args };
}

/** HGETALL of a tally hash (flat field/value list, or an object) → rows. */
export function parseTallies(reply: unknown): TallyRow[] {
  if (reply === null) return [];
  const pairs: Array<[string, unknown]> = [];
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([String(reply[i]), reply[i + 1]]);
  } else if (typeof reply === "object") {
    pairs.push(...Object.entries(reply));
  } else {
    bad("tally reply");
  }
  return pairs.flatMap(([field, value]) => {
    const parsed = parseTallyField(field);
    return parsed === null ? [] : [{ ...parsed, value: int(value, "tally value") }];
  });
}
