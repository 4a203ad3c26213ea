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
  // A declared length within the cap: one native read of the whole body (the runtime's
  // HTTP framing stops the body at its declared length). A read loop cost a reader, a
  // promise per chunk and a copy: the context stage's largest frame in the benchmark's
  // profile of (c) (BENCHMARKS.md, "What moved the numbers").
  if (declared !== null && /^\d+$/.test(declared)) return readDeclared(request, Number(declared), limit);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await readChunk(reader);
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new RiskgateError("ERR_BODY_TOO_LARGE", `body exceeds ${limit} bytes`);
    }
    chunks.push(value);
  }
  // A runtime may end the stream quietly when the client hangs up: the declared length tells.
  if (declared !== null && /^\d+$/.test(declared) && size < Number(declared)) {
    throw new RiskgateError("ERR_BODY_INCOMPLETE", "body ended before its declared length");
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The body of a request that declared its length (at most `limit`), read in one call. */
async function readDeclared(request: Request, declared: number, limit: number): Promise<Uint8Array> {
  let body: ArrayBuffer;
  try {
    body = await request.arrayBuffer();
  } catch {
    throw new RiskgateError("ERR_BODY_INCOMPLETE", "body ended before its declared length");
  }
  // A Request built in code is not framed by HTTP: its body can differ from its header.
  if (body.byteLength > limit) throw new RiskgateError("ERR_BODY_TOO_LARGE", `body exceeds ${limit} bytes`);
  if (body.byteLength < declared) throw new RiskgateError("ERR_BODY_INCOMPLETE", "body ended before its declared length");
  return new Uint8Array(body);
}

/**
 * One chunk of the body. A client that sends fewer bytes than its Content-Length, or
 * hangs up mid-body, makes the runtime's read throw: that is the client's fault (a 400
 * with its own code), never a 500.
 */
async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch {
    throw new RiskgateError("ERR_BODY_INCOMPLETE", "body ended before its declared length");
  }
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
  const fields: BodyFields = isJson ? { type: "json", value: jsonObject(text) } : { type: "form", params: formParams(text) };
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

/**
 * Form fields, refusing a name sent twice. Origins disagree on which copy wins (PHP and
 * Rails take the last, most others the first), so a decoy-then-victim body would be
 * scored on one account and acted on for another.
 */
function formParams(text: string): URLSearchParams {
  const params = new URLSearchParams(text);
  const names = new Set<string>();
  for (const name of params.keys()) {
    // PHP and Rails also merge `email[]` and `email` spellings; a bracketed name is refused too.
    const base = name.endsWith("[]") ? name.slice(0, -2) : name;
    if (names.has(base) || name !== base) throw new RiskgateError("ERR_BODY_AMBIGUOUS", `field "${base}" is sent more than once`);
    names.add(base);
  }
  return params;
}

/**
 * JSON.parse keeps the last of two equal keys; other parsers keep the first or refuse.
 * A key that appears twice in one object is refused, for the same reason as a form field.
 */
function jsonObject(text: string): Readonly<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RiskgateError("ERR_BODY_MALFORMED", "body is not valid JSON");
  }
  if (hasDuplicateKey(text)) throw new RiskgateError("ERR_BODY_AMBIGUOUS", "a JSON key is sent more than once");
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new RiskgateError("ERR_BODY_MALFORMED", "body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** Whether any object in well-formed JSON `text` repeats a key (keys compared after unescaping). */
export function hasDuplicateKey(text: string): boolean {
  const stack: Array<Set<string> | null> = [];
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "{") {
      stack.push(new Set());
      expectKey = true;
      i++;
    } else if (ch === "[") {
      stack.push(null);
      expectKey = false;
      i++;
    } else if (ch === "}" || ch === "]") {
      stack.pop();
      expectKey = false;
      i++;
    } else if (ch === ",") {
      expectKey = stack.at(-1) instanceof Set;
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (expectKey) {
        const keys = stack.at(-1);
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return false;
        }
        if (keys instanceof Set) {
          if (keys.has(key)) return true;
          keys.add(key);
        }
        expectKey = false;
      }
      i = j + 1;
    } else {
      i++;
    }
  }
  return false;
}
