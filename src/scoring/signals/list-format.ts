/**
 * The IP reputation list format (rules/lists/*.txt), documented in docs/signals.md:
 *
 *   # comment
 *   192.0.2.66                                  # reason (optional)
 *   198.51.100.0/24   expires=2027-01-31        # expiry (optional, UTC)
 *   2001:db8:bad::/48
 *   192.0.2.10-192.0.2.20
 *   AS64496                                     # a whole autonomous system
 *
 * One entry per line; the list's name is its file name. Parsing never throws: every
 * problem is reported with its line number.
 */
import { type IpRange, parseRange } from "../../shared/ip-key.ts";

/** One list entry. */
export interface ListEntry {
  readonly target: IpRange | { readonly asn: number };
  /** Epoch milliseconds after which the entry no longer matches; 0 = never. */
  readonly expires: number;
  readonly reason: string;
  readonly line: number;
}

/** A located problem in a list file. */
export interface ListError {
  readonly line: number;
  readonly message: string;
}

/** Entries and problems of one list text. */
export interface ParsedList {
  readonly entries: ListEntry[];
  readonly errors: ListError[];
}

/** Longest accepted line and reason; longer input is not a hand-written list. */
export const MAX_LINE_CHARS = 1000;
export const MAX_REASON_CHARS = 200;

const ASN = /^AS(0|[1-9]\d{0,19})$/i;
const EXPIRES = /^expires=(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?Z)?)$/;

/** Parse a list. `strict` (hand-written files) rejects CIDRs with host bits set. */
export function parseListText(text: string, strict = true): ParsedList {
  const entries: ListEntry[] = [];
  const errors: ListError[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const result = parseListLine(lines[i] ?? "", i + 1, strict);
    if (result === null) continue;
    if ("message" in result) errors.push(result);
    else entries.push(result);
  }
  return { entries, errors };
}

/** One line: an entry, an error, or `null` for blank and comment lines. */
export function parseListLine(raw: string, line: number, strict: boolean): ListEntry | ListError | null {
  if (raw.length > MAX_LINE_CHARS) return { line, message: `line longer than ${MAX_LINE_CHARS} characters` };
  const hash = raw.indexOf("#");
  const body = (hash < 0 ? raw : raw.slice(0, hash)).trim();
  if (body.length === 0) return null;
  const reason = hash < 0 ? "" : raw.slice(hash + 1).trim().slice(0, MAX_REASON_CHARS);
  const [first = "", ...options] = body.split(/\s+/);
  let expires = 0;
  for (const option of options) {
    const m = EXPIRES.exec(option);
    const at = m?.[1] === undefined ? Number.NaN : Date.parse(m[1].length === 10 ? `${m[1]}T00:00:00Z` : m[1]);
    if (!Number.isFinite(at)) return { line, message: `unknown option ${JSON.stringify(option.slice(0, 40))} (expected expires=YYYY-MM-DD)` };
    expires = at;
  }
  const asn = ASN.exec(first);
  if (asn?.[1] !== undefined) {
    const n = Number(asn[1]);
    if (n > 0xffffffff) return { line, message: `AS number out of range: ${first}` };
    return { target: { asn: n }, expires, reason, line };
  }
  const range = parseRange(first, strict);
  if ("error" in range) return { line, message: range.error };
  return { target: range, expires, reason, line };
}
