/**
 * The live reputation lists API (docs/operations.md, "Live lists"), behind admin auth:
 *
 *   GET    /__riskgate/api/lists   the unexpired live entries operators wrote (`?feeds=1`: with the
 *                                  scheduled sources' entries) and each source's refresh status
 *   POST   /__riskgate/api/lists   add one: {target, list, reason, expires?, effect?, source?}
 *   DELETE /__riskgate/api/lists   remove one: {target, list, reason?, source?}
 *
 * An account is named by `account` (its address) instead of `target`: it is canonicalised
 * and HMAC'd here (src/admin/targets.ts) and only `account:<HMAC>` is stored, listed and
 * logged; its list is `block` (a silent deny of its resets, ACCOUNT_BLOCKED).
 *
 * The dashboard's block/release buttons and `riskgate lists add|remove|show` both call it.
 * Each change is a `list.changed` audit event and replaces this isolate's copy at once,
 * so this isolate's next reset sees it; other isolates within LIVE_REFRESH_MS.
 */
import { Hono } from "hono";
import type { ListChangedData } from "../audit/events.ts";
import type { Gateway } from "../gateway/gateway.ts";
import type { Env } from "../shared/env.ts";
import { RiskgateError } from "../shared/errors.ts";
import type { ListSourceStatus } from "../shared/list-sources.ts";
import { accountTarget, BLOCK_LIST, canonicalTarget, displayTarget, type LiveEntry, liveEntry, type LiveTargetKind } from "../shared/live-list.ts";
import { jsonBody, str } from "./json.ts";
import { accountKeyOf } from "./targets.ts";

type AdminEnv = { Bindings: Env; Variables: { gateway: Gateway } };

/**
 * The target an add or remove names: `account` (an address, HMAC'd here before anything
 * stores or logs it: src/admin/targets.ts), else `target` as canonicalTarget reads it;
 * `account:<key>` (the listed form, for the dashboard's release button) is taken as is.
 */
async function targetOf(gateway: Gateway, body: Record<string, unknown>): Promise<{ kind: LiveTargetKind; target: string } | null> {
  const account = str(body.account);
  if (account !== undefined) return accountTarget(await accountKeyOf(gateway.hasher, account));
  const listed = /^account:([A-Za-z0-9_-]{22})$/.exec((str(body.target) ?? "").trim());
  return listed === null ? null : accountTarget(listed[1] ?? "");
}

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
    const resolved = await targetOf(gateway, body);
    let entry: LiveEntry;
    try {
      entry = liveEntry(
        {
          target: str(body.target) ?? "",
          list: str(body.list) ?? (resolved === null ? "" : BLOCK_LIST),
          reason: str(body.reason) ?? "",
          effect: str(body.effect) as LiveEntry["effect"] | undefined,
          expires: str(body.expires) ?? null,
          source: str(body.source) ?? "api",
        },
        now,
        resolved ?? undefined,
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
    const t = (await targetOf(gateway, body)) ?? canonicalTarget(str(body.target) ?? "");
    if ("error" in t) throw new RiskgateError("ERR_BAD_REQUEST", t.error);
    const list = str(body.list) ?? (t.kind === "account" ? BLOCK_LIST : "");
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
