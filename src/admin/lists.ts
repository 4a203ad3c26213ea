/**
 * The live reputation lists API (docs/operations.md, "Live lists"), behind admin auth:
 *
 *   GET    /__riskgate/api/lists   the unexpired live entries operators wrote (`?feeds=1`: with the
 *                                  scheduled sources' entries) and each source's refresh status
 *   POST   /__riskgate/api/lists   add one: {target, list, reason, expires?, effect?, source?}
 *   DELETE /__riskgate/api/lists   remove one: {target, list, reason?, source?}
 *
 * The dashboard's block/release buttons and `riskgate lists add|remove|show` both call it.
 * Each change is a `list.changed` audit event and replaces this isolate's copy at once,
 * so this isolate's next reset sees it; other isolates within LIVE_REFRESH_MS.
 */
import { type Context, Hono } from "hono";
import type { ListChangedData } from "../audit/events.ts";
import { readCapped } from "../context/reset-body.ts";
import type { Gateway } from "../gateway/gateway.ts";
import type { Env } from "../shared/env.ts";
import { RiskgateError } from "../shared/errors.ts";
import type { ListSourceStatus } from "../shared/list-sources.ts";
import { canonicalTarget, displayTarget, type LiveEntry, liveEntry } from "../shared/live-list.ts";

type AdminEnv = { Bindings: Env; Variables: { gateway: Gateway } };

async function jsonBody(c: Context<AdminEnv>): Promise<Record<string, unknown>> {
  const raw = new TextDecoder().decode(await readCapped(c.req.raw, 4096));
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new RiskgateError("ERR_BAD_REQUEST", "send a JSON object");
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The entry as the API shows it: the readable target beside the canonical one. */
function view(e: LiveEntry): LiveEntry & { display: string } {
  return { ...e, display: displayTarget(e.target) };
}

async function changed(gateway: Gateway, action: "add" | "remove", e: LiveEntry, reason: string, source: string): Promise<ListChangedData> {
  // A single address is personal data: the event names it by HMAC, as decisions do.
  const target = e.kind === "ip" ? await gateway.hasher.hash("live-list-ip", e.target) : displayTarget(e.target);
  return {
    action,
    kind: e.kind,
    target,
    list: e.list,
    effect: e.effect,
    reason,
    source,
    expires_at: e.expires_at === null ? null : new Date(e.expires_at).toISOString(),
  };
}

/** The lists sub-app, mounted at /__riskgate/api/lists (after requireAdmin). */
export function listRoutes(): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  app.get("/", async (c) => {
    const gateway = c.var.gateway;
    const now = gateway.now();
    const entries = (await gateway.hub().listEntries(now)) as LiveEntry[];
    gateway.liveLists.set(entries, now);
    // A refreshed source holds thousands of entries: listed on request only, its status always.
    const feeds = c.req.query("feeds") === "1";
    const sources = (await gateway.hub().sourceStatus(now)) as ListSourceStatus[];
    return c.json({ entries: entries.filter((e) => feeds || !e.source.startsWith("feed:")).map(view), sources });
  });
  app.post("/", async (c) => {
    const gateway = c.var.gateway;
    const body = await jsonBody(c);
    const now = gateway.now();
    let entry: LiveEntry;
    try {
      entry = liveEntry(
        {
          target: str(body.target) ?? "",
          list: str(body.list) ?? "",
          reason: str(body.reason) ?? "",
          effect: str(body.effect) as LiveEntry["effect"] | undefined,
          expires: str(body.expires) ?? null,
          source: str(body.source) ?? "api",
        },
        now,
      );
    } catch (err) {
      throw new RiskgateError("ERR_BAD_REQUEST", err instanceof Error ? err.message : "invalid entry");
    }
    let entries: LiveEntry[];
    try {
      entries = (await gateway.hub().putListEntry(entry)) as LiveEntry[];
    } catch (err) {
      throw new RiskgateError("ERR_BAD_REQUEST", err instanceof Error ? err.message : "not stored");
    }
    gateway.liveLists.set(entries, now);
    const data = await changed(gateway, "add", entry, entry.reason, entry.source);
    c.executionCtx.waitUntil(gateway.audit.emit({ type: "list.changed", request_id: gateway.newId(), decision_id: null, data }));
    return c.json({ status: "added", entry: view(entry) }, 201);
  });
  app.delete("/", async (c) => {
    const gateway = c.var.gateway;
    const body = await jsonBody(c);
    const t = canonicalTarget(str(body.target) ?? "");
    if ("error" in t) throw new RiskgateError("ERR_BAD_REQUEST", t.error);
    const list = str(body.list) ?? "";
    const source = str(body.source) ?? "api";
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(source)) throw new RiskgateError("ERR_BAD_REQUEST", "malformed source");
    const reason = (str(body.reason) ?? "").replace(/\p{Cc}/gu, " ").trim().slice(0, 200) || "released";
    const { removed, entries } = (await gateway.hub().removeListEntry(t.target, list)) as { removed: LiveEntry | null; entries: LiveEntry[] };
    const now = gateway.now();
    gateway.liveLists.set(entries, now);
    if (removed === null) throw new RiskgateError("ERR_NOT_FOUND", `no live entry for ${displayTarget(t.target)} on list ${list}`);
    const data = await changed(gateway, "remove", removed, reason, source);
    c.executionCtx.waitUntil(gateway.audit.emit({ type: "list.changed", request_id: gateway.newId(), decision_id: null, data }));
    return c.json({ status: "removed", entry: view(removed) });
  });
  return app;
}
