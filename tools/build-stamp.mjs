// Under `wrangler dev`, the [build] command runs twice at start (once before the first
// bundle, once more when wrangler's file watcher becomes ready) and again on every change
// in src/. The build records a fingerprint of its inputs in build/inputs.stamp; a dev build
// whose inputs are unchanged since the last complete build is skipped. Deploys
// (WRANGLER_COMMAND=deploy) and `npm run build` always build.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const STAMP = "build/inputs.stamp";
const OUTPUTS = ["build/ruleset.json", "build/candidate.json", "build/lists.bin", "build/list-sources.json", "build/geo.bin", "build/dashboard.json"];

function walk(dir, parts) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    parts.push(`${dir}: missing`);
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, parts);
    else if (e.isFile()) {
      const s = statSync(path);
      parts.push(`${path}:${s.size}:${s.mtimeMs}`);
    }
  }
}

/** A fingerprint of everything the build reads: rules, sources, build scripts, options. */
export function inputsFingerprint() {
  const parts = [];
  for (const dir of [process.env.RISKGATE_RULES_DIR || "rules", "src", "tools"]) walk(dir, parts);
  for (const file of ["package-lock.json", "tsconfig.json", "wrangler.toml"]) {
    const s = existsSync(file) ? statSync(file) : null;
    parts.push(`${file}:${s?.size}:${s?.mtimeMs}`);
  }
  for (const name of ["RISKGATE_RULES_DIR", "RISKGATE_GEO_DATA", "RISKGATE_GEO_MMDB", "RISKGATE_ASN_MMDB"]) {
    parts.push(`${name}=${process.env[name] ?? ""}`);
  }
  // A deploy build bundles no geo data by default (src/cli/data/geo-build.ts); dev and npm run build do.
  const command = process.env.WRANGLER_COMMAND;
  parts.push(`deploying=${command !== undefined && command !== "dev"}`);
  return createHash("sha256").update(parts.join("\n")).digest("hex");
}

/** True for a `wrangler dev` build whose outputs are current. */
export function devBuildIsCurrent() {
  if (process.env.WRANGLER_COMMAND !== "dev") return false;
  if (!OUTPUTS.every((f) => existsSync(f))) return false;
  try {
    return readFileSync(STAMP, "utf8") === inputsFingerprint();
  } catch {
    return false;
  }
}

/** Forget the stamp (a build has started). */
export function clearStamp() {
  rmSync(STAMP, { force: true });
}

/** Record the inputs of a complete build. */
export function recordStamp() {
  writeFileSync(STAMP, inputsFingerprint());
}
