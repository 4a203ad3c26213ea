/**
 * Rule files (YAML) → a validated spec, or `file:line:col: message` errors.
 *
 * Every file in the rules directory contributes top-level sections; `rules` lists are
 * concatenated in file order, and any other section may be defined in one file only.
 * A candidate rule set (rules/candidate/) is an overlay of files: a candidate file
 * replaces the live file of the same name, a new name adds a file, and every other
 * live file is inherited. Pure over file texts, so the CLI, the tests and the build
 * share it.
 */
import { isMap, LineCounter, parseDocument } from "yaml";
import { celEnvironment, checkCondition, type ConditionProblem } from "./compile.ts";
import { factReads, referencedFacts } from "../rules/fact-classes.ts";
import { contextSchema } from "../rules/context-schema.ts";
import { at, atKey, atOffset, type ParsedFile, type PathItem, type RuleFile, type RuleFileError } from "../rules/locate.ts";
import { type RulesetSpec, rulesetSchema } from "../rules/schema.ts";
import { candidateProblems, type Problem, semanticProblems } from "./semantic.ts";

export { formatError, type RuleFile, type RuleFileError } from "../rules/locate.ts";

/** Where a rule or override is defined, for messages about it (e.g. missing tests). */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** Either a spec (with the location of every rule and override id) or the errors. */
export type LoadResult =
  | { readonly ok: true; readonly spec: RulesetSpec; readonly locations: ReadonlyMap<string, Location> }
  | { readonly ok: false; readonly errors: readonly RuleFileError[] };

interface Layer {
  readonly owner: Map<string, ParsedFile>;
  readonly values: Map<string, unknown>;
  readonly rules: { parsed: ParsedFile; index: number; value: unknown }[];
  hasRules: boolean;
}

/** Resolves a path in the merged spec to the file and YAML path that defined it. */
type Resolve = (path: readonly PathItem[]) => { parsed: ParsedFile | undefined; path: readonly PathItem[] };

/** Options for loading a candidate. */
export interface LoadOptions {
  /** Candidate files laid over `files`. */
  readonly overlay?: readonly RuleFile[];
  /** The live spec the candidate must be able to run beside (same facts, no extra store work). */
  readonly live?: RulesetSpec;
}

const baseName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** The files of a candidate: live files with same-named candidate files swapped in, new ones added. */
export function overlayFiles(live: readonly RuleFile[], overlay: readonly RuleFile[]): RuleFile[] {
  const replaced = new Set(overlay.map((f) => baseName(f.path)));
  return [...live.filter((f) => !replaced.has(baseName(f.path))), ...overlay];
}

/** Parse, merge, validate and type-check rule files, with an optional candidate overlay. */
export function loadRuleset(files: readonly RuleFile[], options: LoadOptions = {}): LoadResult {
  const errors: RuleFileError[] = [];
  const layer = mergeLayer(parseAll(overlayFiles(files, options.overlay ?? []), errors), errors);
  if (errors.length > 0) return { ok: false, errors };
  const { owner, rules } = layer;
  const merged: Record<string, unknown> = Object.fromEntries(layer.values);
  if (layer.hasRules) merged.rules = rules.map((r) => r.value);
  const fallback = [...owner.values()][0];
  const resolve: Resolve = (path) => {
    const [head, index, ...rest] = path;
    const origin = head === "rules" && typeof index === "number" ? rules[index] : undefined;
    if (origin !== undefined) return { parsed: origin.parsed, path: ["rules", origin.index, ...rest] };
    const parsed = typeof head === "string" ? owner.get(head) : undefined;
    return parsed === undefined ? { parsed: fallback, path: [] } : { parsed, path };
  };
  const locate = (problem: Problem): RuleFileError => {
    const r = resolve(problem.path);
    return at(r.parsed, r.path, problem.message);
  };

  const result = rulesetSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path as PathItem[];
      errors.push(locate({ path, message: path.length === 0 ? issue.message : `${path.join(".")}: ${issue.message}` }));
    }
    return { ok: false, errors };
  }
  const spec = result.data;
  errors.push(...semanticProblems(spec).map(locate));
  errors.push(...conditionErrors(spec, resolve));
  if (options.live !== undefined) errors.push(...candidateProblems(options.live, spec).map(locate));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, spec, locations: idLocations(spec, resolve) };
}

function parseAll(files: readonly RuleFile[], errors: RuleFileError[]): ParsedFile[] {
  return files.map((file) => {
    const lines = new LineCounter();
    const doc = parseDocument(file.text, { lineCounter: lines, uniqueKeys: true });
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0]);
      errors.push({ file: file.path, line: pos.line, col: pos.col, message: e.message.split("\n")[0] ?? "" });
    }
    return { file, doc, lines };
  });
}

function mergeLayer(parsed: readonly ParsedFile[], errors: RuleFileError[]): Layer {
  const layer: Layer = { owner: new Map(), values: new Map(), rules: [], hasRules: false };
  for (const p of parsed) {
    if (p.doc.errors.length > 0 || p.doc.contents === null) continue;
    if (!isMap(p.doc.contents)) {
      errors.push(at(p, [], "a rule file must be a mapping of sections"));
      continue;
    }
    const data = p.doc.toJS() as Record<string, unknown>;
    for (const [key, value] of Object.entries(data)) {
      if (key === "rules" && Array.isArray(value)) {
        layer.hasRules = true;
        for (const [index, v] of value.entries()) layer.rules.push({ parsed: p, index, value: v });
        continue;
      }
      const first = layer.owner.get(key);
      if (first !== undefined) {
        errors.push(atKey(p, [key], `section "${key}" is already defined in ${first.file.path}`));
        continue;
      }
      layer.owner.set(key, p);
      layer.values.set(key, value);
    }
  }
  return layer;
}

/**
 * A condition site. `visible`: what it decides shows to the client (an override's verdict,
 * a ladder's waived CAPTCHA, a channel left out), so it may not read account-side facts.
 */
interface ConditionSite {
  readonly path: PathItem[];
  readonly when: string;
  readonly visible?: string;
}

/** Every CEL condition in the spec, by its path. */
function conditionSites(spec: RulesetSpec): ConditionSite[] {
  const sites: ConditionSite[] = [];
  spec.rules.forEach((r, i) => {
    sites.push({ path: ["rules", i, "when"], when: r.when });
  });
  spec.overrides.forEach((o, i) => {
    sites.push({ path: ["overrides", i, "when"], when: o.when, visible: `override "${o.id}" decides the answer the client sees (its verdict, with or without a CAPTCHA)` });
  });
  for (const [name, c] of Object.entries(spec.channels)) {
    // A tier left without channels answers with its `no_channel` verdict, which the client sees.
    if (c.when !== undefined) sites.push({ path: ["channels", name, "when"], when: c.when, visible: `the "when" of channel "${name}" can leave a tier without channels, whose no_channel verdict the client sees` });
  }
  for (const [name, l] of Object.entries(spec.rate_limits)) {
    if (l.unless !== undefined) sites.push({ path: ["rate_limits", name, "unless"], when: l.unless, visible: `the "unless" of rate limit "${name}" lifts a CAPTCHA the client sees` });
  }
  spec.experiments.forEach((e, i) => {
    if (e.when !== undefined) sites.push({ path: ["experiments", i, "when"], when: e.when });
  });
  return sites;
}

function conditionErrors(spec: RulesetSpec, resolve: Resolve): RuleFileError[] {
  const schema = contextSchema(spec);
  const { env } = celEnvironment(schema);
  const sections = new Set(Object.keys(schema));
  const errors: RuleFileError[] = [];
  for (const site of conditionSites(spec)) {
    const problem = checkCondition(env, site.when) ?? visibilityProblem(spec, sections, env.parse(site.when), site);
    if (problem === null) continue;
    const r = resolve(site.path);
    if (r.parsed === undefined) continue;
    errors.push(atOffset(r.parsed, r.path, problem.offset, problem.message));
  }
  return errors;
}

/**
 * A client-visible condition that reads account-side facts (fact-classes.ts) would make
 * the answer depend on whether the address has an account: enumeration. Refused.
 */
function visibilityProblem(spec: RulesetSpec, sections: ReadonlySet<string>, parsed: unknown, site: ConditionSite): ConditionProblem | null {
  if (site.visible === undefined) return null;
  const ast = (parsed as { ast?: unknown }).ast;
  const facts = referencedFacts(ast, sections)
    .filter((f) => factReads(spec, f.section, f.field).account)
    .map((f) => (f.field === null ? f.section : `${f.section}.${f.field}`));
  if (facts.length === 0) return null;
  return {
    offset: 0,
    message: `${site.visible}, so it may read request-side facts only, not account-side ${[...new Set(facts)].join(", ")}: the answer would tell a stranger whether the address has an account (docs/rules.md, "What the client sees"); score account state with a rule instead`,
  };
}

function idLocations(spec: RulesetSpec, resolve: Resolve): Map<string, Location> {
  const out = new Map<string, Location>();
  const put = (id: string, path: PathItem[]) => {
    const r = resolve(path);
    const { file, line, col } = at(r.parsed, r.path, "");
    out.set(id, { file, line, col });
  };
  spec.rules.forEach((r, i) => {
    put(r.id, ["rules", i, "id"]);
  });
  spec.overrides.forEach((o, i) => {
    put(o.id, ["overrides", i, "id"]);
  });
  return out;
}
