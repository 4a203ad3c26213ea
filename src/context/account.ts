/**
 * The account identifier: normalised so that trivial variants share one key, then
 * HMAC'd so the raw value never reaches storage, logs or the origin claims.
 */

/** Longest identifier accepted; longer input is not an account name. */
export const MAX_IDENTIFIER_CHARS = 320;

/** Trim, Unicode NFKC and lower-case. `null` when nothing is left or it is too long. */
export function normaliseIdentifier(raw: string): string | null {
  const normalised = raw.normalize("NFKC").trim().toLowerCase();
  if (normalised.length === 0 || normalised.length > MAX_IDENTIFIER_CHARS) return null;
  return normalised;
}
