/**
 * The admin area, mounted at /__riskgate. Every route sits behind `requireAdmin`
 * except `POST /login`, which is where the bearer secret is exchanged for a session
 * cookie (and which answers 401 to anything else). Endpoints: docs/operations.md.
 */
import { type Context, Hono, type Next } from "hono";
import { readCapped } from "../context/reset-body.ts";
import type { Env } from "../shared/env.ts";
import { RiskgateError } from "../shared/errors.ts";
import { experimentRoutes } from "./experiments.ts";
import { listRoutes } from "./lists.ts";
import { penaltyRoutes } from "./penalty.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/prometheus.ts";
import { asset, ASSETS_VERSION } from "./assets.ts";
import type { AuthFailure } from "./auth.ts";
import { dashboardPage, loginPage, safeReturnPath } from "./pages.ts";
import { SESSION_COOKIE, SESSION_TTL_SECONDS } from "./session.ts";

type AdminEnv = { Bindings: Env; Variables: { gateway: Gateway } };
type AdminContext = Context<AdminEnv>;

/** Where the admin area lives. */
export const ADMIN_BASE = "/__riskgate";

const MESSAGES: Record<AuthFailure, string> = {
  ADMIN_DISABLED: "Admin is disabled: set ADMIN_TOKEN or Cloudflare Access (ACCESS_TEAM_DOMAIN, ACCESS_AUD).",
  MISSING_CREDENTIALS: "Sign in with the admin token, or through Cloudflare Access.",
  BAD_TOKEN: "That admin token is not valid.",
  BAD_SESSION: "Your session has expired; sign in again.",
  ACCESS_JWT_INVALID: "The Cloudflare Access token is not valid for this application.",
  ACCESS_JWT_EXPIRED: "The Cloudflare Access token has expired; sign in again.",
  ACCESS_KEYS_UNAVAILABLE: "Cloudflare Access keys could not be fetched; try again shortly.",
  CROSS_SITE: "Cross-site request refused.",
};

function wantsHtml(c: AdminContext): boolean {
  return c.req.method === "GET" && (c.req.header("accept") ?? "").includes("text/html");
}

/** Refuse with the failure's message: a login page for browsers, a typed error otherwise. */
function refuse(c: AdminContext, code: AuthFailure): Response {
  const message = MESSAGES[code];
  if (wantsHtml(c)) {
    const tokenLogin = c.var.gateway.admin.tokenLogin;
    // Sign-in returns to the page asked for (only ever a path under /__riskgate/).
    const url = new URL(c.req.url);
    const next = safeReturnPath(`${url.pathname}${url.search}`);
    return loginPage({ status: code === "ADMIN_DISABLED" ? 503 : 401, message, tokenLogin, next });
  }
  if (code === "ADMIN_DISABLED") throw new RiskgateError("ERR_ADMIN_DISABLED", message);
  if (code === "CROSS_SITE") throw new RiskgateError("ERR_FORBIDDEN", message);
  throw new RiskgateError("ERR_UNAUTHORIZED", message, { "www-authenticate": 'Bearer realm="riskgate-admin"' });
}

async function requireAdmin(c: AdminContext, next: Next): Promise<Response | undefined> {
  const gateway = c.var.gateway;
  const result = await gateway.admin.authenticate(c.req.raw, Math.floor(gateway.now() / 1000));
  if (!result.ok) return refuse(c, result.code);
  await next();
  c.header("cache-control", "no-store");
  return undefined;
}

function sessionCookie(c: AdminContext, value: string, maxAge: number): string {
  const secure = new URL(c.req.url).protocol === "https:" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${value}; Path=${ADMIN_BASE}; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

async function login(c: AdminContext): Promise<Response> {
  const gateway = c.var.gateway;
  if (!gateway.admin.tokenLogin) return refuse(c, gateway.admin.enabled ? "BAD_TOKEN" : "ADMIN_DISABLED");
  // The form is small; a capped read keeps an unauthenticated endpoint from buffering megabytes.
  const raw = await readCapped(c.req.raw, 4096);
  const form = new URLSearchParams(new TextDecoder().decode(raw));
  const token = form.get("token") ?? "";
  const next = safeReturnPath(form.get("next"));
  const session = await gateway.admin.login(token, Math.floor(gateway.now() / 1000));
  c.executionCtx.waitUntil(
    gateway.audit.emit({ type: "admin.login", request_id: gateway.newId(), decision_id: null, data: { success: session !== null } }),
  );
  if (session === null) {
    return loginPage({ status: 401, message: MESSAGES.BAD_TOKEN, tokenLogin: true, next });
  }
  return new Response(null, {
    status: 303,
    headers: { location: next ?? `${ADMIN_BASE}/`, "set-cookie": sessionCookie(c, session, SESSION_TTL_SECONDS) },
  });
}

function intParam(c: AdminContext, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RiskgateError("ERR_BAD_REQUEST", `${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** `since`: epoch milliseconds or an ISO time; absent: everything the hub keeps (24 hours). */
function sinceParam(raw: string | undefined, now: number): number {
  if (raw === undefined) return 0;
  const ms = /^\d{1,15}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms) || ms > now + 60_000) throw new RiskgateError("ERR_BAD_REQUEST", "since must be epoch milliseconds or an ISO time, not in the future");
  return ms;
}

function idParam(c: AdminContext): string {
  const id = c.req.param("id") ?? "";
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new RiskgateError("ERR_BAD_REQUEST", "malformed id");
  return id;
}

function serveAsset(c: AdminContext): Response {
  const found = asset(c.req.param("name") ?? "");
  if (found === null) throw new RiskgateError("ERR_NOT_FOUND", "no such asset");
  return new Response(found.body, {
    headers: { "content-type": found.type, "cache-control": "no-store", "x-content-type-options": "nosniff" },
  });
}

/** The admin sub-app. */
export function adminRoutes(): Hono<AdminEnv> {
  const admin = new Hono<AdminEnv>();
  // Registered before the guard: the one route that takes no credentials, since it checks them.
  admin.post("/login", login);
  admin.use("*", requireAdmin);
  // Mounted paths lose their trailing slash in Hono: "/" here is /__riskgate, which
  // redirects to the canonical /__riskgate/ (served by the fallback below).
  admin.get("/", (c) => c.redirect(`${ADMIN_BASE}/`, 301));
  admin.get("/assets/:name", serveAsset);
  admin.get("/api/summary", async (c) => c.json(await c.var.gateway.hubs.summary(intParam(c, "minutes", 60, 5, 1440))));
  admin.get("/api/decisions", async (c) => c.json(await c.var.gateway.hubs.decisions(intParam(c, "limit", 50, 1, 200))));
  // Decision log lines for `riskgate decisions export` (replay's input), paged, oldest first per hub shard.
  admin.get("/api/decisions/export", async (c) => {
    const since = sinceParam(c.req.query("since"), c.var.gateway.now());
    const cursor = c.req.query("cursor") ?? null;
    if (cursor !== null && !/^(?:\d{1,2}:)?(?:\d{1,15}\.\d{1,15})?$/.test(cursor)) throw new RiskgateError("ERR_BAD_REQUEST", "cursor must be the previous page's next");
    return c.json(await c.var.gateway.hubs.exportDecisions(since, cursor, intParam(c, "limit", 500, 1, 1000)));
  });
  admin.get("/api/decisions/:id/events", async (c) => c.json(await c.var.gateway.hubs.eventsOf(idParam(c))));
  admin.get("/api/events/:id", async (c) => {
    const view = await c.var.gateway.hubs.event(idParam(c));
    if (view === null) throw new RiskgateError("ERR_NOT_FOUND", "no such event (kept 24 hours)");
    return c.json(view);
  });
  // Live reputation lists (docs/operations.md): the dashboard's block/release and the CLI.
  admin.route("/api/lists", listRoutes());
  // Lift a penalty box (docs/operations.md): the dashboard's lift form and `riskgate penalty lift`.
  admin.route("/api/penalty", penaltyRoutes());
  admin.post("/api/audit/deliver", async (c) => c.json(await c.var.gateway.hubs.deliver()));
  admin.get("/metrics", async (c) =>
    c.body(await c.var.gateway.hubs.prometheus(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }),
  );
  // Experiment reports (docs/experiments.md), behind the same authentication.
  admin.route("/experiments", experimentRoutes());
  admin.post("/logout", (c) =>
    c.body(null, 303, { location: `${ADMIN_BASE}/`, "set-cookie": sessionCookie(c, "", 0) }),
  );
  admin.all("*", (c) => {
    if (c.req.method === "GET" && c.req.path === `${ADMIN_BASE}/`) return dashboardPage(ASSETS_VERSION);
    throw new RiskgateError("ERR_NOT_FOUND", "no such admin endpoint");
  });
  return admin;
}
