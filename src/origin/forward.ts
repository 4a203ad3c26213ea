/**
 * Forwarding to the origin. Client-sent `Riskgate-*` headers and every header a proxy
 * would add (client address, original host, URL or method) are removed first: only the
 * gateway speaks for the gateway. The origin then gets one `X-Forwarded-For`, set here
 * to the client IP riskgate scored (README, "The origin's side").
 */

/**
 * Headers that proxies, load balancers and CDNs add, and that origins and frameworks
 * read as if a proxy had set them: client address, original host, scheme, URL, method.
 * A client can send any of them; none may reach the origin from the client.
 */
const PROXY_HEADERS = new Set([
  "forwarded",
  "forwarded-for",
  "x-forwarded",
  "x-real-ip",
  "true-client-ip",
  "client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "fastly-client-ip",
  "x-originating-ip",
  "x-remote-ip",
  "x-remote-addr",
  "x-proxyuser-ip",
  "wl-proxy-client-ip",
  "proxy-client-ip",
  "x-envoy-external-address",
  "cf-connecting-ip",
  "cf-connecting-ipv6",
  "x-original-url",
  "x-rewrite-url",
  "x-original-host",
  "x-host",
  "x-http-host-override",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "front-end-https",
]);

/** Whether a client-sent header must not reach the origin. */
export function isProxyHeader(lower: string): boolean {
  return lower.startsWith("riskgate-") || lower.startsWith("x-forwarded-") || PROXY_HEADERS.has(lower);
}

/** Copy of `headers` without any `Riskgate-*` or proxy-asserted header. */
export function cleanHeaders(headers: Iterable<[string, string]>, drop: ReadonlySet<string> = NONE): Headers {
  const out = new Headers();
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (isProxyHeader(lower) || drop.has(lower)) continue;
    out.append(name, value);
  }
  return out;
}

const NONE: ReadonlySet<string> = new Set();
/** Set anew for the origin (host) or by the runtime from the body (content-length). */
const DROPPED_ON_FORWARD: ReadonlySet<string> = new Set(["host", "content-length"]);

/** The origin's failure, named. */
export type OriginFailure = "ORIGIN_TIMEOUT" | "ORIGIN_UNAVAILABLE";

/** An origin response, or the named failure that replaced it. */
export type OriginResult =
  | { readonly ok: true; readonly response: Response; readonly ms: number }
  | { readonly ok: false; readonly code: OriginFailure; readonly ms: number };

/** What a forward needs. */
export interface ForwardOptions {
  readonly originUrl: URL;
  /** The client IP riskgate used, sent as the one `X-Forwarded-For` (null: none sent). */
  readonly clientIp: string | null;
  readonly timeoutMs: number;
  readonly fetcher: typeof fetch;
}

/**
 * The origin URL for `requestUrl`: always `originUrl`'s scheme, host and port, with the
 * request's path and query appended as they came. The path is never resolved against the
 * origin as a URL reference: `//host/x`, `/\\host`, `/http://host` or `@host` would name
 * another host (an open proxy that carried the client's cookies to it). Returns null when
 * no such URL can be formed; the caller refuses the request.
 */
export function originTarget(requestUrl: string, originUrl: URL): URL | null {
  let incoming: URL;
  try {
    incoming = new URL(requestUrl);
  } catch {
    return null;
  }
  // `pathname` always starts with "/" for http(s); set on a URL that already has the
  // origin's authority, it can only ever be a path (a leading "//" stays a path).
  const target = new URL(originUrl.origin);
  target.pathname = incoming.pathname;
  target.search = incoming.search;
  // Belt and braces: whatever the parser did, the authority is the origin's or nothing.
  if (target.origin !== originUrl.origin || target.username !== "" || target.password !== "") return null;
  return target;
}

/** Send `request` to the origin (same path and query) with extra headers; never throws. */
/**
 * What forward() reads of the client's request: a Request, or a queued job's method, URL
 * and header pairs as received (src/reset/deliver.ts: no Request or Headers rebuilt).
 */
export interface ForwardRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Iterable<[string, string]>;
}

export async function forward(
  request: ForwardRequest,
  body: BodyInit | null,
  extra: Record<string, string>,
  { originUrl, clientIp, timeoutMs, fetcher }: ForwardOptions,
): Promise<OriginResult> {
  const target = originTarget(request.url, originUrl);
  if (target === null) return { ok: false, code: "ORIGIN_UNAVAILABLE", ms: 0 };
  const headers = cleanHeaders(request.headers, DROPPED_ON_FORWARD);
  headers.set("host", target.host);
  if (clientIp !== null) headers.set("x-forwarded-for", clientIp);
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
