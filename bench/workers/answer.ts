/**
 * Baseline (e): a bare Hono route that answers by itself without forwarding or reading
 * the body, the cheapest possible "you are blocked". Scenario (d), riskgate answering a
 * request that is already blocked, is measured against this. It answers what a blocked
 * request gets from riskgate: a small JSON 429 with `Retry-After`.
 */
import { Hono } from "hono";

const app = new Hono();

app.post("/password/reset", (c) =>
  c.json({ error: { code: "RATE_LIMITED", message: "too many requests" } }, 429, {
    "retry-after": "60",
    "cache-control": "no-store",
  }),
);

export default app;
