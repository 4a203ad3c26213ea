/**
 * Reference (f): the cheapest gateway that consults a remote store. A bare Hono worker
 * that makes one Upstash REST call (one INCR of a per-IP counter, through the same
 * bridge and redis-server as riskgate's Upstash adapter), then forwards like (a). No
 * scoring, no hashing, no signature. f/a is the most any gateway with one store round
 * trip per request can reach on this runtime; it puts `allow_ratio` (b/a) in proportion.
 */
import { Hono } from "hono";

type Bindings = { readonly ORIGIN_URL: string; readonly UPSTASH_REDIS_REST_URL: string; readonly UPSTASH_REDIS_REST_TOKEN: string };

const app = new Hono<{ Bindings: Bindings }>();

app.post("/password/reset", async (c) => {
  const ip = c.req.header("cf-connecting-ip") ?? "none";
  const store = await fetch(c.env.UPSTASH_REDIS_REST_URL, {
    method: "POST",
    headers: { authorization: `Bearer ${c.env.UPSTASH_REDIS_REST_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(["INCR", `bench:f:${ip}`]),
  });
  if (!store.ok) return c.text("store failed", 503);
  await store.json();
  return fetch(new Request(new URL("/password/reset", c.env.ORIGIN_URL), c.req.raw));
});

export default app;
