/**
 * The scheduled refresh of the live layer (docs/lists.md, "Scheduled refresh"): the Cron
 * Trigger fetches every `live: true` source of rules/lists/sources.yaml (compiled into
 * build/list-sources.json) and hands its entries to the audit hub, which replaces the
 * source's previous set in one transaction and records its status.
 *
 * Fail mode: a source that is down, slow, refuses the key or answers something that is
 * not its format keeps its last good copy until those entries expire; the status names it
 * (SOURCE_STALE, then SOURCE_LAPSED once nothing is left) with the error code, and the
 * refresh logs a `riskgate.list_source` line. A source never empties the live layer by failing.
 * Entries that overlap an `exclude:` range are dropped, so a source cannot re-add what the
 * curated snapshot keeps out on purpose.
 */
import type { IpRange } from "../shared/ip-key.ts";
import {
  type CompiledSource,
  type CompiledSources,
  excludedRanges,
  feedSource,
  type ListSourceStatus,
  parseCrowdsecStream,
  parseSource,
  rangeCidrs,
  withoutExcluded,
} from "../shared/list-sources.ts";
import { canonicalTarget, type LiveEntry, MAX_REASON_CHARS } from "../shared/live-list.ts";

/** What the refresh needs from the audit hub (RiskgateAuditHub's methods of the same names). */
export interface SourceStore {
  storeSource(
    id: string,
    list: string,
    entries: readonly LiveEntry[],
    delta: { readonly removed: readonly { target: string; list: string }[] } | null,
    excluded: number,
    now: number,
  ): Promise<ListSourceStatus | undefined>;
  sourceFailed(id: string, list: string, error: string, resync: boolean, now: number): Promise<ListSourceStatus | undefined>;
  sourceSynced(id: string): Promise<boolean>;
}

/** The outside world of a refresh (tests pass their own clock). */
export interface RefreshDeps {
  readonly store: SourceStore;
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
  readonly now: () => number;
  /** A Worker variable or secret (a source's API key). */
  readonly secret: (name: string) => string | undefined;
  /** Offline (`npm start`): every source is fetched from `<base>/<id>` instead of its URL. */
  readonly baseUrl?: string | undefined;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

/** A refresh failure with its named code (`SOURCE_HTTP_503`, `SOURCE_MALFORMED`, ...). */
class SourceError extends Error {
  constructor(
    readonly code: string,
    detail = "",
  ) {
    super(detail === "" ? code : `${code}: ${detail}`);
  }
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

async function fetchText(url: string, headers: Record<string, string>, deps: RefreshDeps): Promise<string> {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = deps.maxBytes ?? DEFAULT_MAX_BYTES;
  let res: Response;
  try {
    res = await deps.fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === "TimeoutError" || name === "AbortError") throw new SourceError("SOURCE_TIMEOUT", `no answer in ${timeoutMs} ms`);
    throw new SourceError("SOURCE_UNREACHABLE", err instanceof Error ? err.message : String(err));
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new SourceError("SOURCE_AUTH_FAILED", `HTTP ${res.status}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new SourceError(`SOURCE_HTTP_${res.status}`);
  }
  if (Number(res.headers.get("content-length") ?? "0") > maxBytes) {
    await res.body?.cancel();
    throw new SourceError("SOURCE_TOO_LARGE", `larger than ${maxBytes} bytes`);
  }
  const body = await res.arrayBuffer();
  if (body.byteLength > maxBytes) throw new SourceError("SOURCE_TOO_LARGE", `larger than ${maxBytes} bytes`);
  return new TextDecoder().decode(body);
}

function cleanReason(text: string): string {
  return text.replace(/\p{Cc}/gu, " ").trim().slice(0, MAX_REASON_CHARS);
}

/** Live entries for fetched ranges (a non-CIDR range becomes its CIDR blocks). */
function entriesFor(src: CompiledSource, ranges: readonly { range: IpRange; expiresAt: number; reason: string }[], now: number): LiveEntry[] {
  const out = new Map<string, LiveEntry>();
  for (const { range, expiresAt, reason } of ranges) {
    for (const cidr of rangeCidrs(range)) {
      const t = canonicalTarget(cidr);
      if ("error" in t || out.has(t.target)) continue;
      out.set(t.target, { target: t.target, kind: t.kind, list: src.list, effect: "add", reason, source: feedSource(src.id), created_at: now, expires_at: expiresAt });
    }
  }
  return [...out.values()];
}

function targetsOf(src: CompiledSource, ranges: readonly IpRange[]): { target: string; list: string }[] {
  return ranges.flatMap((r) =>
    rangeCidrs(r).flatMap((cidr) => {
      const t = canonicalTarget(cidr);
      return "error" in t ? [] : [{ target: t.target, list: src.list }];
    }),
  );
}

function sourceUrl(src: CompiledSource, deps: RefreshDeps): string {
  return deps.baseUrl === undefined ? src.url : `${deps.baseUrl.replace(/\/$/, "")}/${src.id}`;
}

/** A list source (plain, spamhaus-json): the whole set, replaced. */
async function refreshList(src: CompiledSource & { format: "plain" | "spamhaus-json" }, exclude: readonly IpRange[], deps: RefreshDeps) {
  const text = await fetchText(sourceUrl(src, deps), {}, deps);
  let ranges: IpRange[];
  try {
    ranges = parseSource(text, src.format);
  } catch (err) {
    throw new SourceError("SOURCE_MALFORMED", err instanceof Error ? err.message : String(err));
  }
  const { kept, excluded } = withoutExcluded(ranges, exclude);
  const now = deps.now();
  const reason = cleanReason(src.reason);
  const entries = entriesFor(src, kept.map((range) => ({ range, expiresAt: now + src.ttlMs, reason })), now);
  return deps.store.storeSource(src.id, src.list, entries, null, excluded, now);
}

/**
 * A CrowdSec LAPI decision stream: `startup=true` (the full set, replaced) until a poll
 * succeeded, then `startup=false` deltas. A failed poll resyncs with startup=true next time,
 * so a delta lost in transit is never missed.
 */
async function refreshCrowdsec(src: CompiledSource, exclude: readonly IpRange[], deps: RefreshDeps) {
  const key = src.apiKeyEnv === null ? undefined : deps.secret(src.apiKeyEnv);
  if (key === undefined || key === "") throw new SourceError("SOURCE_NOT_CONFIGURED", `set the secret ${src.apiKeyEnv ?? "api_key_env"}`);
  const startup = !(await deps.store.sourceSynced(src.id));
  const base = sourceUrl(src, deps).replace(/\/$/, "");
  const text = await fetchText(`${base}/v1/decisions/stream?startup=${startup}`, { "X-Api-Key": key, accept: "application/json" }, deps);
  let delta: ReturnType<typeof parseCrowdsecStream>;
  try {
    delta = parseCrowdsecStream(text);
  } catch (err) {
    throw new SourceError("SOURCE_MALFORMED", err instanceof Error ? err.message : String(err));
  }
  const { kept } = withoutExcluded(
    delta.added.map((b) => b.range),
    exclude,
  );
  const keep = new Set(kept);
  const added = delta.added.filter((b) => keep.has(b.range));
  const now = deps.now();
  const entries = entriesFor(
    src,
    added.map((b) => ({ range: b.range, expiresAt: now + b.durationMs, reason: cleanReason(`${src.reason || "crowdsec"}: ${b.scenario || b.origin}`) })),
    now,
  );
  const excluded = delta.added.length - added.length;
  return deps.store.storeSource(src.id, src.list, entries, startup ? null : { removed: targetsOf(src, delta.deleted) }, excluded, now);
}

/** Refresh every source once; their statuses after. A failing source never stops the others. */
export async function refreshSources(compiled: CompiledSources, deps: RefreshDeps): Promise<ListSourceStatus[]> {
  const exclude = excludedRanges(compiled.exclude);
  const statuses: ListSourceStatus[] = [];
  for (const src of compiled.sources) {
    let status: ListSourceStatus | undefined;
    try {
      status =
        src.format === "crowdsec"
          ? await refreshCrowdsec(src, exclude, deps)
          : await refreshList(src as CompiledSource & { format: "plain" | "spamhaus-json" }, exclude, deps);
    } catch (err) {
      const error = err instanceof SourceError ? err.message : `SOURCE_FAILED: ${err instanceof Error ? err.message : String(err)}`;
      status = await deps.store.sourceFailed(src.id, src.list, error, src.format === "crowdsec", deps.now());
    }
    if (status === undefined) continue;
    statuses.push(status);
    // Counts and codes only: never the addresses themselves.
    const line = { type: "riskgate.list_source", source: status.id, list: status.list, state: status.state, entries: status.entries, excluded: status.excluded, error: status.last_error };
    if (status.state === "ok") console.log(JSON.stringify(line));
    else console.warn(JSON.stringify(line));
  }
  return statuses;
}
