/**
 * Baseline (a): the cheapest gateway there is on the same runtime. A bare Hono worker
 * that forwards `POST /password/reset` to the origin unchanged and relays its answer.
 * No parsing, no hashing, no store, no signature: what riskgate costs is measured
 * against this.
 */
import { Hono } from "hono";

type Bindings = { readonly ORIGIN_URL: string };

const app = new Hono<{ Bindings: Bindings }>();

app.post("/password/reset", (c) => fetch(new Request(new URL("/password/reset", c.env.ORIGIN_URL), c.req.raw)));

export default app;
