/** Types for tools/turnstile-standin/siteverify.mjs. */
export const DUMMY_SECRETS: { readonly pass: string; readonly fail: string; readonly spent: string };
export const TOKEN_TTL_MS: number;
export function parseVerifyBody(contentType: string | undefined, text: string): Record<string, unknown> | null;
