/**
 * Upstash's REST API, spoken directly: one Redis command is one `POST <url>` with the
 * command as a JSON array, answered `{"result": …}` or, with an HTTP error status,
 * `{"error": "…"}` (https://upstash.com/docs/redis/features/restapi).
 *
 * Why not @upstash/redis here: the adapter sends three kinds of command (EVALSHA, EVAL,
 * HGETALL), and the client's per-request work around them was most of the store call's
 * own CPU in the benchmark's profile (BENCHMARKS.md, "What moved the numbers"): a header
 * object merged per request, a second abort timer, base64 replies decoded string by
 * string (`Upstash-Encoding: base64`, which Upstash documents as opt-in: without it
 * strings come back as JSON strings, and every string riskgate stores is ASCII), and a
 * read-your-writes sync token read from every reply (riskgate reads and writes a key in
 * the same script call, so it has nothing to sync). @upstash/redis stays the reference
 * for the protocol: the parity test runs @upstash/ratelimit (which needs it) against the
 * observe script on one Redis, and the benchmark's peer is built from it.
 *
 * Failure: one deadline's signal per adapter call (`StoreDeadline`) bounds every fetch and body read
 * of that call (EVALSHA and its EVAL fallback together); the adapter maps what is thrown
 * to a StoreError with a stable code (`storeErrorFrom` in upstash.ts).
 */
import { StoreError } from "./port.ts";

/** Redis answered with an error (HTTP 4xx with `{"error": …}`), e.g. NOSCRIPT. */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisReplyError";
  }
}

/** A client for one Upstash database (or the bridge in tests and the benchmark). */
export class UpstashRest {
  private readonly url: string;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(url: string, token: string) {
    this.url = url.replace(/\/$/, "");
    this.headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  }

  /** Run one command; its reply's `result`, or a thrown RedisReplyError / StoreError / fetch error. */
  async command(command: readonly string[], signal: AbortSignal): Promise<unknown> {
    const res = await fetch(this.url, { method: "POST", headers: this.headers, body: JSON.stringify(command), signal });
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (!res.ok) throw new StoreError("STORE_UNAVAILABLE", `upstash answered HTTP ${res.status}`, { cause: err });
      throw new StoreError("STORE_BAD_RESPONSE", "upstash response was not JSON", { cause: err });
    }
    if (typeof body !== "object" || body === null) throw new StoreError("STORE_BAD_RESPONSE", "upstash response was not an object");
    const { result, error } = body as { result?: unknown; error?: unknown };
    if (typeof error === "string") throw new RedisReplyError(error);
    if (!res.ok) throw new StoreError("STORE_UNAVAILABLE", `upstash answered HTTP ${res.status}`);
    if (result === undefined) throw new StoreError("STORE_BAD_RESPONSE", "upstash response had no result");
    return result;
  }
}
