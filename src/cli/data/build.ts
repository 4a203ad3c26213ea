/**
 * The data build (run by `npm run build` after the rules): reputation lists and the
 * local geo database, compiled into build/lists.bin and build/geo.bin, which the Worker
 * bundles. The geo build takes seconds, so it is skipped when its inputs are unchanged.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildGeoPack, type GeoBuildOptions, geoOptionsFromEnv, packageDir } from "./geo-build.ts";
import { expiryWarnings } from "../../scoring/signals/list-compile.ts";
import { buildListsPack } from "./lists-build.ts";
import { compileSources, readSources } from "../lists-update.ts";

/** Options of the data build. */
export interface DataBuildOptions {
  readonly listsDir: string;
  readonly outDir: string;
  readonly now: number;
  readonly geo: GeoBuildOptions;
  readonly log: (line: string) => void;
}

const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

async function fingerprint(options: GeoBuildOptions): Promise<string> {
  const parts: string[] = [JSON.stringify(options), "geo-format-2"];
  for (const pkg of ["@ip-location-db/geo-whois-asn-country-mmdb", "@ip-location-db/asn", "@rapideditor/country-coder"]) {
    try {
      parts.push(await readFile(join(packageDir(pkg), "package.json"), "utf8"));
    } catch {
      parts.push(`${pkg}: missing`);
    }
  }
  for (const path of [options.countryMmdb, options.asnMmdb]) {
    if (path !== null) parts.push(`${path}:${(await stat(path)).mtimeMs}`);
  }
  return createHash("sha256").update(parts.join("\n")).digest("hex");
}

async function buildGeo(options: DataBuildOptions): Promise<void> {
  const out = join(options.outDir, "geo.bin");
  const stampPath = join(options.outDir, "geo.stamp");
  const stamp = await fingerprint(options.geo);
  const previous = await readFile(stampPath, "utf8").catch(() => "");
  const existing = await stat(out).catch(() => null);
  if (previous === stamp && existing !== null) {
    options.log(`geo: ${out} is up to date (${kb(existing.size)})`);
    return;
  }
  const started = Date.now();
  const { pack, ranges } = await buildGeoPack(options.geo);
  await writeFile(out, pack);
  await writeFile(stampPath, stamp);
  options.log(
    `geo: built ${out} (${options.geo.level}, ${ranges} ranges, ${kb(pack.byteLength)}, ${kb(gzipSync(pack).byteLength)} gzipped) in ${Date.now() - started} ms`,
  );
}

/** Build both packs; resolves to an exit code (1 when a list has errors). */
export async function buildData(options: DataBuildOptions): Promise<number> {
  await mkdir(options.outDir, { recursive: true });
  const lists = await buildListsPack(options.listsDir, options.now);
  if ("errors" in lists) {
    for (const e of lists.errors) process.stderr.write(`${e}\n`);
    return 1;
  }
  const listsOut = join(options.outDir, "lists.bin");
  await writeFile(listsOut, lists.pack);
  options.log(
    `lists: built ${listsOut} (${lists.meta.lists.length} lists, ${lists.meta.entries} entries, ${lists.meta.expiredDropped} expired dropped, ${kb(lists.pack.byteLength)})`,
  );
  for (const warning of expiryWarnings(lists.expiry)) process.stderr.write(`lists: warning: ${warning}\n`);
  // The sources the scheduled refresh copies into the live layer (src/audit/list-refresh.ts).
  const hasSources = await stat(join(options.listsDir, "sources.yaml")).then(() => true, () => false);
  const read = hasSources ? await readSources(options.listsDir) : { sources: { lists: {}, exclude: [] } };
  if ("errors" in read) {
    for (const e of read.errors) process.stderr.write(`${e}\n`);
    return 1;
  }
  const compiled = compileSources(read.sources);
  const sourcesOut = join(options.outDir, "list-sources.json");
  await writeFile(sourcesOut, `${JSON.stringify(compiled, null, 2)}\n`);
  options.log(`lists: wrote ${sourcesOut} (${compiled.sources.length} live sources, ${compiled.exclude.length} excluded ranges)`);
  await buildGeo(options);
  return 0;
}

/** The data build as `npm run build` runs it. */
export function buildDataFromEnv(rulesDir = "rules", outDir = "build"): Promise<number> {
  return buildData({
    listsDir: join(rulesDir, "lists"),
    outDir,
    now: Date.now(),
    geo: geoOptionsFromEnv(process.env),
    log: (line) => process.stdout.write(`${line}\n`),
  });
}
