/**
 * Peer (g): what a team builds instead of riskgate from the same libraries. A Hono
 * worker that follows @upstash/ratelimit's README: two `Ratelimit.slidingWindow`
 * limiters, one per client IP and one per account (the JSON body's email), on the same
 * Upstash-REST bridge and Redis as scenario (b); when both allow, the request is
 * forwarded to the origin like (a). It scores nothing, signs nothing and audits nothing.
 *
 * Choices, all the library's defaults or the README's, and none that slows the peer:
 * the Redis client and limiters are built once per isolate (the Cloudflare example's
 * shape: `Redis.fromEnv(env)`, a module-level ephemeral cache); both limits are checked
 * concurrently (`Promise.all`), which @upstash/redis's auto-pipelining sends as one
 * REST request; `analytics` stays off (the README's `analytics: true` would add a Redis
 * write per request and make the peer slower); `pending` goes to `waitUntil`.
 * Limits are realistic (10 per minute per IP, 5 per 10 minutes per account): the bench's
 * unique stream gives every request a new IP and account, so each key is hit once and
 * every request takes the allow path (the harness checks the origin saw each one).
 */
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import { Hono } from "hono";

type Bindings = { readonly ORIGIN_URL: string; readonly UPSTASH_REDIS_REST_URL: string; readonly UPSTASH_REDIS_REST_TOKEN: string };

const cache = new Map<string, number>();
let limiters: { ip: Ratelimit; account: Ratelimit } | null = null;

function limitersFor(env: Bindings) {
  if (limiters === null) {
    const redis = Redis.fromEnv(env);
    limiters = {
      ip: new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(10, "60 s"), prefix: "bench:g:ip", ephemeralCache: cache }),
      account: new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(5, "600 s"), prefix: "bench:g:account", ephemeralCache: cache }),
    };
  }
  return limiters;
}

const app = new Hono<{ Bindings: Bindings }>();

app.post("/password/reset", async (c) => {
  const ip = c.req.header("cf-connecting-ip") ?? "unknown";
  // The body is needed twice (the email here, the origin after): read it once.
  const raw = await c.req.text();
  let email = "";
  try {
    const body = JSON.parse(raw) as { email?: unknown };
    if (typeof body.email === "string") email = body.email.trim().toLowerCase();
  } catch {
    return c.json({ error: "invalid JSON" }, 400);
  }
  if (email === "") return c.json({ error: "email is required" }, 400);
  const { ip: byIp, account } = limitersFor(c.env);
  const [a, b] = await Promise.all([byIp.limit(ip), account.limit(email)]);
  c.executionCtx.waitUntil(Promise.all([a.pending, b.pending]));
  if (!a.success || !b.success) {
    const reset = Math.max(a.success ? 0 : a.reset, b.success ? 0 : b.reset);
    const retry = Math.max(1, Math.ceil((reset - Date.now()) / 1000));
    return c.json({ error: "too many requests" }, 429, { "retry-after": String(retry) });
  }
  const headers = new Headers(c.req.raw.headers);
  headers.delete("content-length");
  return fetch(new URL("/password/reset", c.env.ORIGIN_URL), { method: "POST", headers, body: raw });
});

export default app;
