/**
 * Reads the reset request's body under a size cap and extracts the identifier field.
 * Every failure is a typed 4xx; none depends on whether the account exists.
 */
import { RiskgateError } from "../shared/errors.ts";

/** The body's fields, parsed once here (the CAPTCHA step reads its token from them). */
export type BodyFields =
  | { readonly type: "json"; readonly value: Readonly<Record<string, unknown>> }
  | { readonly type: "form"; readonly params: URLSearchParams };

/** The parsed body: the identifier, the fields and the raw bytes to forward unchanged. */
export interface ResetBody {
  readonly identifier: string;
  readonly fields: BodyFields;
  readonly raw: Uint8Array;
}

/** Read at most `limit` bytes; more is a 413, whatever Content-Length claimed. */
export async function readCapped(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    throw new RiskgateError("ERR_BODY_TOO_LARGE", `body exceeds ${limit} bytes`);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new RiskgateError("ERR_BODY_TOO_LARGE", `body exceeds ${limit} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The media type without parameters, lower-cased. */
function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Parse a JSON or form body and return the identifier field as a string. */
export async function readResetBody(request: Request, field: string, limit: number): Promise<ResetBody> {
  const type = mediaType(request);
  const isJson = type === "application/json" || type.endsWith("+json");
  const isForm = type === "application/x-www-form-urlencoded";
  if (!isJson && !isForm) {
    throw new RiskgateError(
      "ERR_UNSUPPORTED_MEDIA_TYPE",
      "expected application/json or application/x-www-form-urlencoded",
    );
  }
  const raw = await readCapped(request, limit);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(raw);
  } catch {
    throw new RiskgateError("ERR_BODY_MALFORMED", "body is not valid UTF-8");
  }
  const fields: BodyFields = isJson ? { type: "json", value: jsonObject(text) } : { type: "form", params: new URLSearchParams(text) };
  const value = fieldOf(fields, field);
  if (typeof value !== "string" || value.trim().length === 0) {
    throw new RiskgateError("ERR_IDENTIFIER_MISSING", `field "${field}" is required`);
  }
  return { identifier: value, fields, raw };
}

/** One field's value: a JSON member (own properties only) or the first form value. */
export function fieldOf(fields: BodyFields, field: string): unknown {
  if (fields.type === "form") return fields.params.get(field);
  return Object.hasOwn(fields.value, field) ? fields.value[field] : undefined;
}

function jsonObject(text: string): Readonly<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RiskgateError("ERR_BODY_MALFORMED", "body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new RiskgateError("ERR_BODY_MALFORMED", "body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}
