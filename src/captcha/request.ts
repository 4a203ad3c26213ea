/**
 * The CAPTCHA parts of a reset request (context stage: the only place here that reads
 * HTTP): a token (the widget's body field, or a header for API clients), a pass (a
 * cookie for browsers, a header for API clients), whether the client wants an HTML
 * page, and the original body fields, so a challenge page can resubmit them.
 */
import { PASS_COOKIE, PASS_HEADER, TOKEN_HEADER } from "./provider.ts";

/** The original request's body, as the challenge page resubmits it. */
export type OriginalBody =
  | { readonly type: "json"; readonly value: Readonly<Record<string, unknown>> }
  | { readonly type: "form"; readonly pairs: readonly (readonly [string, string])[] };

/** What the CAPTCHA step needs from the request. */
export interface CaptchaRequest {
  readonly token: string | null;
  readonly pass: string | null;
  /** The hostname the request was sent to: where the challenge page (and widget) ran. */
  readonly hostname: string;
  readonly wantsHtml: boolean;
  /** The body without any token field; null when it cannot be parsed (then no page resubmits it). */
  readonly original: OriginalBody | null;
}

function cookie(header: string | null, name: string): string | null {
  if (header === null) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function nonEmpty(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** Parse the (already size-capped) body the context stage read, dropping the token field. */
export function originalBody(contentType: string, raw: Uint8Array, field: string): { body: OriginalBody | null; token: string | null } {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(raw);
  } catch {
    return { body: null, token: null };
  }
  if (type === "application/x-www-form-urlencoded") {
    const params = new URLSearchParams(text);
    const token = nonEmpty(params.get(field));
    return { body: { type: "form", pairs: [...params].filter(([name]) => name !== field) }, token };
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { body: null, token: null };
    const { [field]: token, ...rest } = parsed as Record<string, unknown>;
    return { body: { type: "json", value: rest }, token: nonEmpty(token) };
  } catch {
    return { body: null, token: null };
  }
}

/** Read the CAPTCHA parts; `field` is the provider's token field. */
export function readCaptchaRequest(request: Request, raw: Uint8Array, field: string): CaptchaRequest {
  const headers = request.headers;
  const { body, token } = originalBody(headers.get("content-type") ?? "", raw, field);
  const accept = (headers.get("accept") ?? "").toLowerCase();
  return {
    token: nonEmpty(headers.get(TOKEN_HEADER)) ?? token,
    pass: nonEmpty(headers.get(PASS_HEADER)) ?? nonEmpty(cookie(headers.get("cookie"), PASS_COOKIE)),
    hostname: new URL(request.url).hostname.toLowerCase(),
    wantsHtml: accept.includes("text/html"),
    original: body,
  };
}
