/**
 * The account identifier, canonicalised so that spellings a typical origin treats as one
 * account share one key, then HMAC'd so the raw value never reaches storage, logs or the
 * origin claims. Two keys come out (docs/signals.md, "Identifier profile"):
 *
 * - `exact`: NFKC, default-ignorable code points removed (zero-width space, soft hyphen,
 *   joiners, variation selectors...), trimmed, lower-cased, a `mailto:` prefix and angle
 *   brackets removed, a trailing dot after the domain removed. Each of these is a spelling
 *   of the same mailbox; history (verified resets, known devices, tags) is keyed on it.
 * - `velocity`: `exact` with accents folded (MySQL's default collation ignores them, so
 *   `josé@` and `jose@` reach one row), a `+tag` dropped from the local part and, for
 *   Gmail, dots in it ignored. Counts and ladders are keyed on it, so an attacker cannot
 *   buy fresh limits for one victim by spelling the address differently. It may merge two
 *   real accounts' counts, which only ever adds friction, never takes it away.
 */

/** Longest identifier accepted; longer input is not an account name. */
export const MAX_IDENTIFIER_CHARS = 320;

/** Code points a renderer or a database collation ignores (UAX #44 Default_Ignorable_Code_Point). */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const MARKS = /\p{M}/gu;
/** Providers whose mailboxes ignore dots in the local part. */
const DOTLESS = new Set(["gmail.com", "googlemail.com"]);

/** The two canonical forms of an identifier. */
export interface CanonicalIdentifier {
  readonly exact: string;
  readonly velocity: string;
}

/** Trim, Unicode NFKC, ignorables removed, lower-case. `null` when nothing is left or it is too long. */
export function normaliseIdentifier(raw: string): string | null {
  let text = raw.normalize("NFKC").replace(IGNORABLE, "").trim().toLowerCase();
  if (text.startsWith("mailto:")) text = text.slice("mailto:".length).trim();
  if (text.startsWith("<") && text.endsWith(">")) text = text.slice(1, -1).trim();
  if (text.includes("@")) text = text.replace(/\.+$/, "");
  if (text.length === 0 || text.length > MAX_IDENTIFIER_CHARS) return null;
  return text;
}

/** The velocity form of an already normalised identifier. */
export function velocityIdentifier(exact: string): string {
  const folded = exact.normalize("NFKD").replace(MARKS, "").normalize("NFKC");
  const at = folded.lastIndexOf("@");
  if (at <= 0) return folded;
  let local = folded.slice(0, at);
  const domain = folded.slice(at + 1);
  const plus = local.indexOf("+");
  if (plus > 0) local = local.slice(0, plus);
  if (DOTLESS.has(domain)) local = local.replaceAll(".", "");
  return `${local.length === 0 ? folded.slice(0, at) : local}@${domain === "googlemail.com" ? "gmail.com" : domain}`;
}

/** Both canonical forms, or `null` when the identifier is empty or too long. */
export function canonicalIdentifier(raw: string): CanonicalIdentifier | null {
  const exact = normaliseIdentifier(raw);
  return exact === null ? null : { exact, velocity: velocityIdentifier(exact) };
}
