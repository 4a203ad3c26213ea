/**
 * Rule files (YAML) → a validated spec, or `file:line:col: message` errors.
 *
 * Every file in the rules directory contributes top-level sections; `rules` lists are
 * concatenated in file order, and any other section may be defined in one file only.
 * Pure over file texts, so the CLI, the tests and the build share it.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { checkConditions } from "./compile.ts";
import { type RulesetSpec, rulesetSchema } from "./schema.ts";

/** One rule file's path (for messages) and text. */
export interface RuleFile {
  readonly path: string;
  readonly text: string;
}

/** A located problem in a rule file. */
export interface RuleFileError {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

/** Either a spec or the errors that prevent one. */
export type LoadResult =
  | { readonly ok: true; readonly spec: RulesetSpec }
  | { readonly ok: false; readonly errors: readonly RuleFileError[] };

interface Parsed {
  readonly file: RuleFile;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

type PathItem = string | number;

/** `file:line:col: message`, the format editors and CI annotate. */
export function formatError(error: RuleFileError): string {
  return `${error.file}:${error.line}:${error.col}: ${error.message}`;
}

/** Parse, merge, validate and type-check rule files. */
export function loadRuleset(files: readonly RuleFile[]): LoadResult {
  const errors: RuleFileError[] = [];
  const parsed: Parsed[] = [];
  for (const file of files) {
    const lines = new LineCounter();
    const doc = parseDocument(file.text, { lineCounter: lines, uniqueKeys: true });
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0]);
      errors.push({ file: file.path, line: pos.line, col: pos.col, message: e.message.split("\n")[0] ?? "" });
    }
    parsed.push({ file, doc, lines });
  }
  if (errors.length > 0) return { ok: false, errors };

  const merged: Record<string, unknown> = {};
  const owner = new Map<string, Parsed>();
  const ruleOrigin: { parsed: Parsed; index: number }[] = [];
  for (const p of parsed) {
    if (p.doc.contents === null) continue;
    if (!isMap(p.doc.contents)) {
      errors.push(at(p, [], "a rule file must be a mapping of sections"));
      continue;
    }
    const data = p.doc.toJS() as Record<string, unknown>;
    for (const [key, value] of Object.entries(data)) {
      if (key === "rules" && Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) ruleOrigin.push({ parsed: p, index });
        merged.rules = [...((merged.rules as unknown[] | undefined) ?? []), ...value];
        continue;
      }
      const first = owner.get(key);
      if (first !== undefined) {
        errors.push(at(p, [key], `section "${key}" is already defined in ${first.file.path}`));
        continue;
      }
      owner.set(key, p);
      merged[key] = value;
    }
  }
  if (errors.length > 0) return { ok: false, errors };

  const locate = (path: readonly PathItem[], message: string): RuleFileError => {
    const [head, index, ...rest] = path;
    if (head === "rules" && typeof index === "number") {
      const origin = ruleOrigin[index];
      if (origin !== undefined) return at(origin.parsed, ["rules", origin.index, ...rest], message);
    }
    const p = typeof head === "string" ? owner.get(head) : undefined;
    return p === undefined ? at(parsed[0], [], message) : at(p, path, message);
  };

  const result = rulesetSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      errors.push(locate(issue.path as PathItem[], describe(issue.path as PathItem[], issue.message)));
    }
    return { ok: false, errors };
  }
  const spec = result.data;
  errors.push(...semanticErrors(spec, locate));
  for (const e of checkConditions(spec)) {
    const base = locate(["rules", e.ruleIndex, "when"], e.message);
    errors.push(e.offset === null ? base : { ...base, col: base.col + e.offset + quoteOffset(spec, e.ruleIndex, parsedRuleScalar(ruleOrigin[e.ruleIndex])) });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, spec };
}

function describe(path: readonly PathItem[], message: string): string {
  return path.length === 0 ? message : `${path.join(".")}: ${message}`;
}

/** Checks zod cannot express: duplicate ids, tier gaps, unique names. */
function semanticErrors(
  spec: RulesetSpec,
  locate: (path: readonly PathItem[], message: string) => RuleFileError,
): RuleFileError[] {
  const errors: RuleFileError[] = [];
  const seen = new Map<string, number>();
  spec.rules.forEach((rule, i) => {
    const first = seen.get(rule.id);
    if (first !== undefined) errors.push(locate(["rules", i, "id"], `duplicate rule id "${rule.id}" (first at rule ${first + 1})`));
    else seen.set(rule.id, i);
  });
  const tierNames = new Set<string>();
  spec.tiers.forEach((tier, i) => {
    if (tierNames.has(tier.name)) errors.push(locate(["tiers", i, "name"], `duplicate tier "${tier.name}"`));
    tierNames.add(tier.name);
  });
  // Tiers must cover every score: the lowest threshold has to catch everything below it.
  const lowest = Math.min(...spec.tiers.map((t) => t.min_score));
  if (lowest > 0) {
    const i = spec.tiers.findIndex((t) => t.min_score === lowest);
    errors.push(locate(["tiers", i, "min_score"], `gap: scores below ${lowest} match no tier (the lowest tier must start at 0 or below)`));
  }
  const thresholds = new Set<number>();
  spec.tiers.forEach((tier, i) => {
    if (thresholds.has(tier.min_score)) errors.push(locate(["tiers", i, "min_score"], `two tiers start at ${tier.min_score}`));
    thresholds.add(tier.min_score);
  });
  return errors;
}

/** The YAML scalar node holding a rule's condition, to place column offsets inside it. */
function parsedRuleScalar(origin: { parsed: Parsed; index: number } | undefined): unknown {
  return origin?.parsed.doc.getIn(["rules", origin.index, "when"], true);
}

/** Offset from the node start to the first character of the expression (1 for quoted scalars). */
function quoteOffset(_spec: RulesetSpec, _index: number, node: unknown): number {
  if (!isScalar(node)) return 0;
  return node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE" ? 1 : 0;
}

function at(p: Parsed | undefined, path: readonly PathItem[], message: string): RuleFileError {
  if (p === undefined) return { file: "<rules>", line: 1, col: 1, message };
  let node: unknown = path.length === 0 ? p.doc.contents : p.doc.getIn(path, true);
  // Walk up to the nearest existing node (a missing key is reported at its parent).
  for (let depth = path.length - 1; (node === undefined || node === null) && depth >= 0; depth--) {
    node = depth === 0 ? p.doc.contents : p.doc.getIn(path.slice(0, depth), true);
  }
  const range = (node as { range?: [number, number, number] } | null)?.range;
  const pos = p.lines.linePos(range?.[0] ?? 0);
  return { file: p.file.path, line: pos.line, col: pos.col, message };
}
