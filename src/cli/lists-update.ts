/**
 * `riskgate lists update`: refresh the generated block of each list in rules/lists/
 * from the public sources in rules/lists/sources.yaml. Every fetch has a timeout and a
 * size cap; a source that fails (network, HTTP status, unexpected format) leaves its
 * list exactly as it was and makes the command exit 1, so a bad day upstream never
 * empties a list. Hand-written entries outside the generated block are kept. Ranges
 * under `exclude:` (what the curated snapshot keeps out on purpose) are never written.
 * The same file feeds the scheduled refresh of the live layer (`live: true` sources,
 * compiled into build/list-sources.json; src/audit/list-refresh.ts).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { IpRange } from "../shared/ip-key.ts";
import { type CompiledSources, excludedRanges, parseSource, rangeText, withoutExcluded } from "../shared/list-sources.ts";
import { durationMs } from "../scoring/rules/duration.ts";

const source = z.strictObject({
  /** Unique id in status and metrics; default `<list>-<n>`. */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/).optional(),
  url: z.url(),
  format: z.enum(["plain", "spamhaus-json", "crowdsec"]),
  reason: z.string().max(200).default(""),
  expires: z.string().regex(/^\d+(m|h|d)$/).optional(),
  /** The scheduled refresh copies this source into the live layer (default: no). */
  live: z.boolean().default(false),
  /** crowdsec: the environment variable (a Worker secret) with the bouncer API key. */
  api_key_env: z.string().regex(/^[A-Z][A-Z0-9_]*$/).optional(),
});
const exclusion = z.strictObject({ range: z.string(), reason: z.string().min(1).max(200) });
const sourcesSchema = z
  .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), z.unknown())
  .transform((raw, ctx) => {
    const { exclude = [], ...lists } = raw;
    const ex = z.array(exclusion).safeParse(exclude);
    if (!ex.success) for (const issue of ex.error.issues) ctx.addIssue({ ...issue, path: ["exclude", ...issue.path] } as never);
    const out: Record<string, Source[]> = {};
    for (const [name, list] of Object.entries(lists)) {
      const parsed = z.array(source).min(1).safeParse(list);
      if (parsed.success) out[name] = parsed.data;
      else for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [name, ...issue.path] } as never);
    }
    return { lists: out, exclude: ex.success ? ex.data : [] };
  });
type Source = z.infer<typeof source>;
type Sources = z.infer<typeof sourcesSchema>;

/** Live entries of a source without `expires` last this long after the last refresh that carried them. */
export const DEFAULT_LIVE_EXPIRY = "7d";

/** Read and validate `<dir>/sources.yaml`: the sources, or `path: message` errors. */
export async function readSources(dir: string): Promise<{ sources: Sources } | { errors: string[] }> {
  const path = join(dir, "sources.yaml");
  const parsed = sourcesSchema.safeParse(parseYaml(await readFile(path, "utf8")));
  if (!parsed.success) return { errors: parsed.error.issues.map((i) => `${path}: ${i.path.join(".")}: ${i.message}`) };
  const errors: string[] = [];
  for (const x of parsed.data.exclude) {
    try {
      excludedRanges([x]);
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message}`);
    }
  }
  const ids = new Set<string>();
  for (const [list, sources] of Object.entries(parsed.data.lists)) {
    sources.forEach((src, i) => {
      const id = src.name ?? `${list}-${i + 1}`;
      if (ids.has(id)) errors.push(`${path}: ${list}.${i}: source name ${id} is used twice`);
      ids.add(id);
      if (src.format === "crowdsec" && src.api_key_env === undefined) errors.push(`${path}: ${list}.${i}: a crowdsec source needs api_key_env`);
    });
  }
  return errors.length > 0 ? { errors } : { sources: parsed.data };
}

/** The sources the Worker's scheduled refresh reads (build/list-sources.json). */
export function compileSources(sources: Sources): CompiledSources {
  return {
    sources: Object.entries(sources.lists).flatMap(([list, entries]) =>
      entries.flatMap((src, i) =>
        src.live
          ? [
              {
                id: src.name ?? `${list}-${i + 1}`,
                list: list.replace(/-/g, "_"),
                url: src.url,
                format: src.format,
                reason: src.reason,
                ttlMs: durationMs(src.expires ?? DEFAULT_LIVE_EXPIRY),
                apiKeyEnv: src.api_key_env ?? null,
              },
            ]
          : [],
      ),
    ),
    exclude: sources.exclude,
  };
}

/** What the update needs from the outside world (tests inject fixtures). */
export interface UpdateDeps {
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export const BEGIN = "# BEGIN generated by `riskgate lists update`; edits inside this block are replaced";
export const END = "# END generated";

async function fetchSource(src: Source, deps: UpdateDeps): Promise<IpRange[]> {
  let res: Response;
  try {
    res = await deps.fetch(src.url, { signal: AbortSignal.timeout(deps.timeoutMs), redirect: "follow" });
  } catch (err) {
    const name = (err as { name?: string }).name;
    throw new Error(name === "TimeoutError" || name === "AbortError" ? `timed out after ${deps.timeoutMs} ms` : `fetch failed: ${String(err)}`);
  }
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > deps.maxBytes) throw new Error(`larger than ${deps.maxBytes} bytes`);
  const body = await res.arrayBuffer();
  if (body.byteLength > deps.maxBytes) throw new Error(`larger than ${deps.maxBytes} bytes`);
  if (src.format === "crowdsec") throw new Error("a crowdsec source feeds the live layer only (the scheduled refresh)");
  return parseSource(new TextDecoder().decode(body), src.format);
}

/** Replace (or append) the generated block of a list file's text. */
export function replaceBlock(text: string, lines: readonly string[]): string {
  const block = [BEGIN, ...lines, END].join("\n");
  const begin = text.indexOf(BEGIN);
  const end = begin < 0 ? -1 : text.indexOf(END, begin);
  if (begin < 0 || end < 0) return `${text.replace(/\n*$/, "\n")}${block}\n`;
  return `${text.slice(0, begin)}${block}${text.slice(end + END.length)}`;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

async function updateList(dir: string, name: string, sources: readonly Source[], exclude: readonly IpRange[], deps: UpdateDeps): Promise<boolean> {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const src of sources) {
    let ranges: IpRange[];
    try {
      ({ kept: ranges } = withoutExcluded(await fetchSource(src, deps), exclude));
    } catch (err) {
      deps.log(`${name}: ${src.url}: ${(err as Error).message}; list left unchanged`);
      return false;
    }
    const expiry = src.expires === undefined ? "" : ` expires=${isoDate(deps.now() + durationMs(src.expires))}`;
    const reason = src.reason === "" ? "" : ` # ${src.reason}`;
    for (const r of ranges) {
      const text = rangeText(r);
      if (seen.has(text)) continue;
      seen.add(text);
      lines.push(`${text}${expiry}${reason}`);
    }
    deps.log(`${name}: ${src.url}: ${ranges.length} entries`);
  }
  const path = join(dir, `${name}.txt`);
  const current = await readFile(path, "utf8").catch(() => `# ${name}: see rules/lists/sources.yaml\n`);
  await writeFile(path, replaceBlock(current, lines));
  deps.log(`${name}: wrote ${lines.length} entries to ${path}`);
  return true;
}

/** Update every list with sources (or only `only`); resolves to an exit code. */
export async function updateLists(dir: string, deps: UpdateDeps, only: readonly string[] = []): Promise<number> {
  const read = await readSources(dir);
  if ("errors" in read) {
    for (const e of read.errors) deps.log(e);
    return 2;
  }
  // crowdsec sources feed the live layer only; they have no list file to update.
  const lists = Object.fromEntries(
    Object.entries(read.sources.lists).flatMap(([n, srcs]) => {
      const files = srcs.filter((src) => src.format !== "crowdsec");
      return files.length > 0 ? [[n, files] as const] : [];
    }),
  );
  const exclude = excludedRanges(read.sources.exclude);
  const names = Object.keys(lists).filter((n) => only.length === 0 || only.includes(n));
  const unknown = only.filter((n) => !(n in lists));
  if (unknown.length > 0) {
    deps.log(`no sources for: ${unknown.join(", ")}`);
    return 2;
  }
  let ok = true;
  for (const name of names) ok = (await updateList(dir, name, lists[name] ?? [], exclude, deps)) && ok;
  deps.log(ok ? "lists updated; run `npm run build` (or deploy) to compile them" : "some sources failed; their lists were left unchanged");
  return ok ? 0 : 1;
}
