/**
 * List sources (rules/lists/sources.yaml): the parsing both `riskgate lists update` (into
 * the list files) and the scheduled refresh (into the live layer, src/audit/list-refresh.ts)
 * use, so a source means the same thing to both. Pure: no I/O.
 *
 *   plain          one IP, CIDR or range per line; `#` and `;` start comments; extra columns ignored
 *   spamhaus-json  Spamhaus DROP NDJSON (`{"cidr": ...}` lines and a metadata line)
 *   crowdsec       a CrowdSec LAPI decision stream (`GET /v1/decisions/stream`), JSON
 *                  `{"new": [decision], "deleted": [decision]}`; refresh only (no list file)
 */
import { format, type IpRange, parseRange } from "./ip-key.ts";

/** A source's data format. */
export type SourceFormat = "plain" | "spamhaus-json" | "crowdsec";

/** One source as the build compiles it into build/list-sources.json. */
export interface CompiledSource {
  /** Unique id: the `name` in sources.yaml, else `<list>-<n>` (its place under the list). */
  readonly id: string;
  /** The live list its entries join (`tor_exits`, `known_bad`, ...). */
  readonly list: string;
  readonly url: string;
  readonly format: SourceFormat;
  readonly reason: string;
  /** How long a fetched entry stays after the last refresh that carried it (ms). */
  readonly ttlMs: number;
  /** Environment variable holding the source's API key (crowdsec: `X-Api-Key`). */
  readonly apiKeyEnv: string | null;
}

/** What the Worker bundles: the sources the refresh reads, and ranges no source may add. */
export interface CompiledSources {
  readonly sources: readonly CompiledSource[];
  /** Ranges the curated snapshot keeps out on purpose (`exclude:` in sources.yaml). */
  readonly exclude: readonly { readonly range: string; readonly reason: string }[];
}

/** Most entries one source may carry. */
export const MAX_SOURCE_ENTRIES = 2_000_000;

/** The range as list syntax: an address, a CIDR, or `a-b`. */
export function rangeText(r: IpRange): string {
  if (r.start === r.end) return format(r.version, r.start);
  const size = r.end - r.start + 1n;
  const bits = size.toString(2).length - 1;
  const aligned = (size & (size - 1n)) === 0n && (r.start & (size - 1n)) === 0n;
  const width = r.version === 4 ? 32 : 128;
  return aligned ? `${format(r.version, r.start)}/${width - bits}` : `${format(r.version, r.start)}-${format(r.version, r.end)}`;
}

/** Parse a fetched list body (plain, spamhaus-json); throws when it does not look like the declared format. */
export function parseSource(text: string, fmt: "plain" | "spamhaus-json"): IpRange[] {
  const ranges: IpRange[] = [];
  let bad = 0;
  for (const line of text.split(/\r?\n/)) {
    let token: string;
    if (fmt === "spamhaus-json") {
      if (line.trim() === "") continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        bad++;
        continue;
      }
      const cidr = (row as { cidr?: unknown } | null)?.cidr;
      if (typeof cidr !== "string") continue; // the trailing metadata line
      token = cidr;
    } else {
      token = line.replace(/[#;].*$/, "").trim().split(/[\s,]+/)[0] ?? "";
      if (token === "") continue;
    }
    const r = parseRange(token, false);
    if ("error" in r) bad++;
    else ranges.push(r);
    if (ranges.length > MAX_SOURCE_ENTRIES) throw new Error(`more than ${MAX_SOURCE_ENTRIES} entries`);
  }
  if (ranges.length === 0) throw new Error("no entries: unexpected format or empty list");
  if (bad > ranges.length) throw new Error(`${bad} unparseable lines against ${ranges.length} entries: unexpected format`);
  return ranges;
}

/** Split ranges into those outside every excluded range and the count that touched one. */
export function withoutExcluded(ranges: readonly IpRange[], exclude: readonly IpRange[]): { kept: IpRange[]; excluded: number } {
  if (exclude.length === 0) return { kept: [...ranges], excluded: 0 };
  const kept = ranges.filter((r) => !exclude.some((x) => x.version === r.version && x.start <= r.end && r.start <= x.end));
  return { kept, excluded: ranges.length - kept.length };
}

/** Parse the `exclude:` ranges (a bad one is a build error, so this throws). */
export function excludedRanges(exclude: CompiledSources["exclude"]): IpRange[] {
  return exclude.map((x) => {
    const r = parseRange(x.range, false);
    if ("error" in r) throw new Error(`exclude ${x.range}: ${r.error}`);
    return r;
  });
}

const GO_UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, "µs": 0.001, ns: 0.000001 };

/** A Go duration (`3h59m12.5s`, `-1.2s`) in ms; null when it is not one. */
export function goDurationMs(text: string): number | null {
  const m = /^(-?)((?:\d+(?:\.\d+)?(?:h|ms|us|µs|ns|m|s))+)$/.exec(text);
  if (m === null) return null;
  let ms = 0;
  for (const part of (m[2] ?? "").matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)) ms += Number(part[1]) * (GO_UNITS[part[2] ?? ""] ?? 0);
  return m[1] === "-" ? -ms : ms;
}

/** One CrowdSec decision the live layer takes: an IP or range ban. */
export interface CrowdsecBan {
  readonly range: IpRange;
  /** ms left (from `duration`); deletions carry none. */
  readonly durationMs: number;
  readonly scenario: string;
  readonly origin: string;
}

/** A decision stream answer: bans to add, and ranges whose decision was deleted. */
export interface CrowdsecDelta {
  readonly added: CrowdsecBan[];
  readonly deleted: IpRange[];
  /** Decisions skipped: other scopes (username...), other types (captcha...), simulated. */
  readonly skipped: number;
}

function decisionRange(d: Record<string, unknown>): IpRange | null {
  const scope = typeof d.scope === "string" ? d.scope.toLowerCase() : "";
  if ((scope !== "ip" && scope !== "range") || typeof d.value !== "string") return null;
  const r = parseRange(d.value, false);
  return "error" in r ? null : r;
}

/**
 * Parse a `/v1/decisions/stream` body (CrowdSec LAPI swagger: `DecisionsStreamResponse`,
 * `new` and `deleted` each an array of `Decision` or null). Only `ban` decisions on the
 * `Ip` and `Range` scopes become entries; throws when the body is not a stream answer.
 */
export function parseCrowdsecStream(text: string): CrowdsecDelta {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error("not JSON: expected a decision stream");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body) || !("new" in body || "deleted" in body)) {
    throw new Error('not a decision stream: expected {"new": [...], "deleted": [...]}');
  }
  const { new: added = null, deleted = null } = body as { new?: unknown; deleted?: unknown };
  if ((added !== null && !Array.isArray(added)) || (deleted !== null && !Array.isArray(deleted))) {
    throw new Error('not a decision stream: "new" and "deleted" must be arrays or null');
  }
  const out: CrowdsecDelta = { added: [], deleted: [], skipped: 0 };
  let skipped = 0;
  for (const d of (added ?? []) as unknown[]) {
    const dec = (typeof d === "object" && d !== null ? d : {}) as Record<string, unknown>;
    const range = decisionRange(dec);
    const duration = typeof dec.duration === "string" ? goDurationMs(dec.duration) : null;
    if (range === null || dec.type !== "ban" || dec.simulated === true || duration === null || duration <= 0) {
      skipped++;
      continue;
    }
    out.added.push({ range, durationMs: duration, scenario: String(dec.scenario ?? ""), origin: String(dec.origin ?? "") });
  }
  for (const d of (deleted ?? []) as unknown[]) {
    const range = decisionRange((typeof d === "object" && d !== null ? d : {}) as Record<string, unknown>);
    if (range !== null) out.deleted.push(range);
  }
  return { ...out, skipped };
}

/** The range as CIDR blocks (a live entry is an address or a CIDR); at most `max` of them. */
export function rangeCidrs(r: IpRange, max = 64): string[] {
  const width = r.version === 4 ? 32 : 128;
  const out: string[] = [];
  let start = r.start;
  while (start <= r.end && out.length < max) {
    // The largest aligned block at `start` that stays inside the range.
    let bits = 0;
    while (bits < width && (start & ((1n << BigInt(bits + 1)) - 1n)) === 0n && start + (1n << BigInt(bits + 1)) - 1n <= r.end) bits++;
    out.push(`${format(r.version, start)}/${width - bits}`);
    start += 1n << BigInt(bits);
  }
  return out;
}

/**
 * A source's health, as the dashboard and `riskgate_list_source_*` show it:
 *   ok             the last refresh succeeded
 *   SOURCE_STALE   the last refresh failed; the last good copy is served until its entries expire
 *   SOURCE_LAPSED  refreshes keep failing and the last good copy has expired: nothing served
 *   pending        never refreshed yet
 */
export type SourceState = "ok" | "SOURCE_STALE" | "SOURCE_LAPSED" | "pending";

/** One source's stored status. */
export interface ListSourceStatus {
  readonly id: string;
  readonly list: string;
  readonly state: SourceState;
  /** Unexpired entries the live layer holds from it now. */
  readonly entries: number;
  /** Entries the last good refresh dropped because they overlap an `exclude:` range. */
  readonly excluded: number;
  readonly last_success: number | null;
  readonly last_attempt: number | null;
  /** A named code and detail, e.g. `SOURCE_HTTP_503`, `SOURCE_MALFORMED: ...`; null after a success. */
  readonly last_error: string | null;
  /** Failed refreshes since the table was made. */
  readonly errors: number;
}

/** The `source` of a refreshed source's live entries: `feed:<id>` (operators' sources never contain `:`). */
export function feedSource(id: string): string {
  return `feed:${id}`;
}
