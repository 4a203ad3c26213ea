/**
 * The CAPTCHA parts of a reset request (context stage: the only place here that reads
 * HTTP): a token (the widget's body field, or a header for API clients), a pass (a
 * cookie for browsers, a header for API clients), whether the client wants an HTML
 * page, and the original body fields, so a challenge page can resubmit them.
 */
import { type BodyFields, fieldOf } from "../context/reset-body.ts";
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
  /** The body without any token field, for the challenge page to resubmit. */
  readonly original: OriginalBody;
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

/** The original fields without the token field, and the token (from the body the context stage parsed). */
export function originalBody(fields: BodyFields, field: string): { body: OriginalBody; token: string | null } {
  const token = nonEmpty(fieldOf(fields, field));
  if (fields.type === "form") return { body: { type: "form", pairs: [...fields.params].filter(([name]) => name !== field) }, token };
  const { [field]: _token, ...rest } = fields.value;
  return { body: { type: "json", value: rest }, token };
}

/** Read the CAPTCHA parts; `field` is the provider's token field. */
export function readCaptchaRequest(request: Request, fields: BodyFields, field: string): CaptchaRequest {
  const headers = request.headers;
  const { body, token } = originalBody(fields, field);
  const accept = (headers.get("accept") ?? "").toLowerCase();
  return {
    token: nonEmpty(headers.get(TOKEN_HEADER)) ?? token,
    pass: nonEmpty(headers.get(PASS_HEADER)) ?? nonEmpty(cookie(headers.get("cookie"), PASS_COOKIE)),
    hostname: new URL(request.url).hostname.toLowerCase(),
    wantsHtml: accept.includes("text/html"),
    original: body,
  };
}
