/**
 * Source positions for rule-file problems: a YAML path, or a character offset inside a
 * CEL condition, becomes `file:line:col`. Conditions may be plain, quoted or block
 * scalars, so an offset in the parsed string is found again in the source text.
 */
import type { Document, LineCounter } from "yaml";

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

/** A parsed rule file. */
export interface ParsedFile {
  readonly file: RuleFile;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

/** A step in a YAML path. */
export type PathItem = string | number;

/** `file:line:col: message`, the format editors and CI annotate. */
export function formatError(error: RuleFileError): string {
  return `${error.file}:${error.line}:${error.col}: ${error.message}`;
}

function nodeRange(node: unknown): readonly [number, number] | null {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range === undefined ? null : [range[0], range[1]];
}

/** The node at `path`, or its nearest existing ancestor (a missing key is reported at its parent). */
export function nodeAt(p: ParsedFile, path: readonly PathItem[]): unknown {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? p.doc.contents : p.doc.getIn(path.slice(0, depth), true);
    if (node !== undefined && node !== null) return node;
  }
  return null;
}

/** Locate `path` in a parsed file. */
export function at(p: ParsedFile | undefined, path: readonly PathItem[], message: string): RuleFileError {
  if (p === undefined) return { file: "<rules>", line: 1, col: 1, message };
  const range = nodeRange(nodeAt(p, path));
  const pos = p.lines.linePos(range?.[0] ?? 0);
  return { file: p.file.path, line: pos.line, col: pos.col, message };
}

/** Locate the key of the mapping entry at `path` (e.g. a section name) rather than its value. */
export function atKey(p: ParsedFile, path: readonly PathItem[], message: string): RuleFileError {
  const parent = path.length <= 1 ? p.doc.contents : p.doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  const items = (parent as { items?: { key?: unknown }[] } | null)?.items ?? [];
  const pair = items.find((item) => (item.key as { value?: unknown } | null)?.value === last);
  const range = nodeRange(pair?.key);
  if (range === null) return at(p, path, message);
  const pos = p.lines.linePos(range[0]);
  return { file: p.file.path, line: pos.line, col: pos.col, message };
}

/**
 * Locate character `offset` of the string scalar at `path`. The token around the offset
 * (up to 16 non-space characters) is searched for in the scalar's source text, taking
 * repeats into account; folding and quoting only ever change whitespace and quotes
 * around tokens, so this finds the right column in every scalar style.
 */
export function atOffset(p: ParsedFile, path: readonly PathItem[], offset: number, message: string): RuleFileError {
  const node = p.doc.getIn(path, true) as { value?: unknown } | undefined;
  const range = nodeRange(node);
  const value = node?.value;
  if (range === null || typeof value !== "string") return at(p, path, message);
  const abs = findInSource(p.file.text, range, value, Math.min(Math.max(offset, 0), value.length));
  if (abs === null) return at(p, path, message);
  const pos = p.lines.linePos(abs);
  return { file: p.file.path, line: pos.line, col: pos.col, message };
}

function findInSource(text: string, range: readonly [number, number], value: string, offset: number): number | null {
  const after = /^\S{1,16}/.exec(value.slice(offset))?.[0];
  if (after !== undefined) return nth(text, range, value, after, offset);
  // The offset is at whitespace or the end (e.g. "unexpected end of input"): place it just
  // after the token before it.
  const head = value.slice(0, offset).trimEnd();
  const before = /\S{1,16}$/.exec(head)?.[0];
  if (before === undefined) return null;
  const found = nth(text, range, value, before, head.length - before.length);
  return found === null ? null : found + before.length;
}

/** Source index of the occurrence of `needle` that sits at `offset` in `value`. */
function nth(text: string, range: readonly [number, number], value: string, needle: string, offset: number): number | null {
  let count = 0;
  for (let i = value.indexOf(needle); i !== -1 && i < offset; i = value.indexOf(needle, i + 1)) count++;
  let j = text.indexOf(needle, range[0]);
  for (let k = 0; k < count && j !== -1; k++) j = text.indexOf(needle, j + 1);
  return j !== -1 && j < range[1] ? j : null;
}

/** A problem at a path of the merged spec. */
export interface Problem {
  readonly path: readonly PathItem[];
  readonly message: string;
}
