/**
 * `rules check`, `rules build` and `rules test`: the edit → check → test part of the loop.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import { formatError, type Location, type LoadResult, overlayFiles } from "../scoring/ruleset/load.ts";
import { EXIT, type Io } from "./io.ts";
import { artefact, compileSpec, loadCandidateDir, loadRuleDir, readRuleFiles } from "./rule-files.ts";
import { runRuleTests } from "./rule-tests.ts";

/** A loaded, compiled rule set with the locations of its rule ids. */
export interface Loaded {
  readonly ruleset: CompiledRuleset;
  readonly locations: ReadonlyMap<string, Location>;
}

function report(io: Io, result: LoadResult): result is Extract<LoadResult, { ok: true }> {
  if (result.ok) return true;
  for (const e of result.errors) io.err(`${formatError(e)}\n`);
  io.err(`${result.errors.length} error(s)\n`);
  return false;
}

function summary(result: Extract<LoadResult, { ok: true }>): string {
  const s = result.spec;
  return `${s.rules.length} rules, ${s.overrides.length} overrides, ${s.tiers.length} tiers, ${Object.keys(s.channels).length} channels`;
}

/**
 * Load `dir`, and (when `withCandidate`) the candidate overlay in `candidateDir` if it
 * holds files. Null (errors printed) on failure.
 */
export async function loadBoth(io: Io, dir: string, candidateDir: string, withCandidate = true): Promise<{ live: Loaded; candidate: Loaded | null } | null> {
  const live = await loadRuleDir(dir);
  if (!report(io, live)) return null;
  const cand = withCandidate ? await loadCandidateDir(dir, candidateDir, live.spec) : null;
  if (cand !== null && !report(io, cand)) return null;
  return {
    live: { ruleset: compileSpec(live.spec), locations: live.locations },
    candidate: cand === null || !cand.ok ? null : { ruleset: compileSpec(cand.spec), locations: cand.locations },
  };
}

/** `rules check`: validate the live rules and the candidate, if any. */
export async function check(io: Io, dir: string, candidateDir: string): Promise<number> {
  const live = await loadRuleDir(dir);
  if (!report(io, live)) return EXIT.FAILED;
  io.out(`${dir}: ${summary(live)}: ok\n`);
  const cand = await loadCandidateDir(dir, candidateDir, live.spec);
  if (cand === null) return EXIT.OK;
  if (!report(io, cand)) return EXIT.FAILED;
  io.out(`${candidateDir} (candidate over ${dir}): ${summary(cand)}: ok\n`);
  return EXIT.OK;
}

/** `rules build`: write the bundled artefacts (the candidate's is `null` when there is none). */
export async function build(io: Io, dir: string, candidateDir: string, out: string, candidateOut: string): Promise<number> {
  const live = await loadRuleDir(dir);
  if (!report(io, live)) return EXIT.FAILED;
  const cand = await loadCandidateDir(dir, candidateDir, live.spec);
  if (cand !== null && !report(io, cand)) return EXIT.FAILED;
  const built = artefact(live.spec);
  const builtCandidate = cand === null || !cand.ok ? null : artefact(cand.spec);
  for (const [path, value] of [[out, built], [candidateOut, builtCandidate]] as const) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(value)}\n`);
  }
  io.out(`built ${out} (rules ${built.version}, ${live.spec.rules.length} rules)\n`);
  io.out(builtCandidate === null ? `no candidate in ${candidateDir}: ${candidateOut} is null (shadow mode off)\n` : `built ${candidateOut} (candidate ${builtCandidate.version}, shadow mode on)\n`);
  return EXIT.OK;
}

/**
 * `rules test`: run the fixtures against the live rules, or against the candidate with
 * --candidate. The candidate's own fixtures (`candidateTestsDir`, rules/candidate/tests/)
 * are laid over the shipped ones as its rule files are over the live files: a file of the
 * same name replaces the shipped one (to change the outcomes the candidate means to
 * change), a new name adds cases (for the candidate's new rules).
 */
export async function test(io: Io, target: Loaded, testsDir: string, verbose: boolean, candidateTestsDir: string | null = null): Promise<number> {
  const shipped = await readRuleFiles(testsDir);
  const files = candidateTestsDir === null ? shipped : overlayFiles(shipped, await readRuleFiles(candidateTestsDir));
  const run = runRuleTests(target.ruleset, files, target.locations, candidateTestsDir ?? testsDir);
  let failed = 0;
  for (const r of run.results) {
    const where = `${r.fixture.file}:${r.fixture.line}:${r.fixture.col}`;
    if (r.failures.length === 0) {
      if (verbose) io.out(`ok   ${where}: ${r.fixture.name}\n`);
      continue;
    }
    failed++;
    io.err(`FAIL ${where}: ${r.fixture.name}\n`);
    for (const f of r.failures) io.err(`       ${f}\n`);
  }
  for (const e of run.errors) io.err(`${formatError(e)}\n`);
  const passed = run.results.length - failed;
  const where = candidateTestsDir === null ? join(testsDir) : `${join(testsDir)} + ${join(candidateTestsDir)}`;
  const line = `${run.results.length} cases in ${where}: ${passed} passed, ${failed} failed, ${run.errors.length} fixture or coverage error(s)\n`;
  if (failed > 0 || run.errors.length > 0) {
    io.err(line);
    return EXIT.FAILED;
  }
  io.out(line);
  return EXIT.OK;
}
