/**
 * Reading rule directories from disk (Node only; the Worker gets the built JSON).
 */
import { createHash } from "node:crypto";
import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import type { BuiltRuleset } from "../scoring/ruleset/bundled.ts";
import { compileRuleset, type CompiledRuleset } from "../scoring/ruleset/compile.ts";
import { type LoadResult, loadRuleset, type RuleFile } from "../scoring/ruleset/load.ts";
import type { RulesetSpec } from "../scoring/rules/schema.ts";

/** The YAML files directly in `dir` (sub-folders such as lists/, tests/ and candidate/ are not rules). */
export async function readRuleFiles(dir: string): Promise<RuleFile[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const names = entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => ({
      path: displayPath(join(dir, name)),
      text: await readFile(join(dir, name), "utf8"),
    })),
  );
}

/** Paths in messages: relative to the working directory when inside it, absolute otherwise. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith("..") || isAbsolute(rel) ? resolve(path) : rel;
}

/** Load and validate the rule set in `dir`. */
export async function loadRuleDir(dir: string): Promise<LoadResult> {
  const files = await readRuleFiles(dir);
  if (files.length === 0) return { ok: false, errors: [{ file: dir, line: 1, col: 1, message: "no rule files (*.yaml) here" }] };
  return loadRuleset(files);
}

/**
 * Load a candidate: the YAML files in `candidateDir` laid over those in `dir`, checked
 * to run beside `live`. Null when `candidateDir` holds no rule files.
 */
export async function loadCandidateDir(dir: string, candidateDir: string, live: RulesetSpec): Promise<LoadResult | null> {
  const overlay = await readRuleFiles(candidateDir);
  if (overlay.length === 0) return null;
  return loadRuleset(await readRuleFiles(dir), { overlay, live });
}

/** Content hash of a spec: the rule-set version recorded in decisions. */
export function specVersion(spec: RulesetSpec): string {
  return createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 12);
}

/** The build artefact for a spec. */
export function artefact(spec: RulesetSpec): BuiltRuleset {
  return { version: specVersion(spec), spec };
}

/** Compile a loaded spec exactly as the Worker will. */
export function compileSpec(spec: RulesetSpec): CompiledRuleset {
  return compileRuleset(spec, specVersion(spec));
}
