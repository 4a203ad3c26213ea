/**
 * Forwarding to the origin. Client-sent `Riskgate-*` headers and client-supplied IP
 * headers are removed first: only the gateway speaks for the gateway.
 */

/** Headers a client may send that must never reach the origin as if we set them. */
const SPOOFABLE = ["x-forwarded-for", "x-real-ip", "true-client-ip", "forwarded"];

/** Copy of `headers` without any `Riskgate-*` or client-asserted IP header. */
export function cleanHeaders(headers: Headers): Headers {
  const out = new Headers();
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower.startsWith("riskgate-") || SPOOFABLE.includes(lower)) continue;
    out.set(name, value);
  }
  return out;
}

/** The origin's failure, named. */
export type OriginFailure = "ORIGIN_TIMEOUT" | "ORIGIN_UNAVAILABLE";

/** An origin response, or the named failure that replaced it. */
export type OriginResult =
  | { readonly ok: true; readonly response: Response; readonly ms: number }
  | { readonly ok: false; readonly code: OriginFailure; readonly ms: number };

/** What a forward needs. */
export interface ForwardOptions {
  readonly originUrl: URL;
  readonly timeoutMs: number;
  readonly fetcher: typeof fetch;
}

/** Send `request` to the origin (same path and query) with extra headers; never throws. */
export async function forward(
  request: Request,
  body: BodyInit | null,
  extra: Record<string, string>,
  { originUrl, timeoutMs, fetcher }: ForwardOptions,
): Promise<OriginResult> {
  const incoming = new URL(request.url);
  const target = new URL(incoming.pathname + incoming.search, originUrl);
  const headers = cleanHeaders(request.headers);
  headers.delete("host");
  headers.delete("content-length");
  if (target.protocol === "http:" || target.protocol === "https:") headers.set("host", target.host);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  const started = Date.now();
  try {
    const response = await fetcher(target, {
      method: request.method,
      headers,
      body: request.method === "GET" || request.method === "HEAD" ? null : body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { ok: true, response, ms: Date.now() - started };
  } catch (err) {
    const timedOut = err instanceof DOMException && (err.name === "TimeoutError" || err.name === "AbortError");
    return { ok: false, code: timedOut ? "ORIGIN_TIMEOUT" : "ORIGIN_UNAVAILABLE", ms: Date.now() - started };
  }
}
