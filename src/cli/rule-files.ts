/**
 * Reading a rules directory from disk (Node only; the Worker gets the built JSON).
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { BuiltRuleset } from "../rules/bundled.ts";
import { type LoadResult, loadRuleset, type RuleFile } from "../rules/load.ts";
import type { RulesetSpec } from "../rules/schema.ts";

/** The YAML files directly in `dir` (sub-folders such as lists/, tests/ and candidate/ are not rules). */
export async function readRuleFiles(dir: string): Promise<RuleFile[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => ({
      path: relative(process.cwd(), join(dir, name)),
      text: await readFile(join(dir, name), "utf8"),
    })),
  );
}

/** Load and validate the rule set in `dir`. */
export async function loadRuleDir(dir: string): Promise<LoadResult> {
  return loadRuleset(await readRuleFiles(dir));
}

/** Content hash of a spec: the rule-set version recorded in decisions. */
export function specVersion(spec: RulesetSpec): string {
  return createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 12);
}

/** The build artefact for a spec. */
export function artefact(spec: RulesetSpec): BuiltRuleset {
  return { version: specVersion(spec), spec };
}
