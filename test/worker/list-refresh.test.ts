// The scheduled refresh of the live layer (src/audit/list-refresh.ts) in workerd, against
// the real audit hub and a local HTTP server standing in for the sources and a CrowdSec
// LAPI (tools/list-sources-standin.mjs, which follows LAPI's documented stream answers).
import { createExecutionContext, createScheduledController, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { type RefreshDeps, refreshSources } from "../../src/audit/list-refresh.ts";
import { bundledSources } from "../../src/gateway/list-refresh.ts";
import worker from "../../src/index.ts";
import type { CompiledSource, CompiledSources } from "../../src/shared/list-sources.ts";
import { canonicalTarget } from "../../src/shared/live-list.ts";

const base = inject("listSourcesUrl");
const hub = () => env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName("hub"));
const T0 = Date.parse("2026-12-01T00:00:00Z");
const HOUR = 3_600_000;

async function serve(id: string, status: number, body: string): Promise<void> {
  await (await fetch(`${base}/__control/file/${id}`, { method: "POST", body: JSON.stringify({ status, body }) })).text();
}

async function lapi(id: string, change: { key?: string; add?: unknown[]; delete?: string[] }): Promise<void> {
  await (await fetch(`${base}/__control/crowdsec/${id}`, { method: "POST", body: JSON.stringify(change) })).text();
}

function deps(clock: { t: number }, secrets: Record<string, string> = {}): RefreshDeps {
  const h = hub();
  return {
    store: {
      storeSource: (...args) => h.storeSource(...args),
      sourceFailed: (...args) => h.sourceFailed(...args),
      sourceSynced: (id) => h.sourceSynced(id),
    },
    fetch: (url, init) => fetch(url, init),
    now: () => clock.t,
    secret: (name) => secrets[name],
    baseUrl: base,
    timeoutMs: 20_000,
  };
}

function source(id: string, extra: Partial<CompiledSource> = {}): CompiledSource {
  return { id, list: "known_bad", url: "https://unused.example/list", format: "plain", reason: "test feed", ttlMs: 24 * HOUR, apiKeyEnv: null, ...extra };
}

const one = (src: CompiledSource, exclude: CompiledSources["exclude"] = []): CompiledSources => ({ sources: [src], exclude });

/** The display-independent targets a source holds at `now`. */
async function held(id: string, now: number): Promise<string[]> {
  const entries = await hub().listEntries(now);
  return entries.filter((e) => e.source === `feed:${id}`).map((e) => e.target).sort();
}

const target = (text: string) => {
  const t = canonicalTarget(text);
  if ("error" in t) throw new Error(t.error);
  return t.target;
};

describe("scheduled list refresh", () => {
  it("stores a source's entries with its expiry and replaces the previous set", async () => {
    const clock = { t: T0 };
    await serve("feed-a", 200, "# a feed\n192.0.2.1\n198.51.100.0/24 ; comment\n");
    const [first] = await refreshSources(one(source("feed-a")), deps(clock));
    expect(first).toMatchObject({ id: "feed-a", state: "ok", entries: 2, last_success: T0, last_error: null });
    expect(await held("feed-a", T0)).toEqual([target("192.0.2.1"), target("198.51.100.0/24")].sort());
    const stored = (await hub().listEntries(T0)).find((e) => e.target === target("192.0.2.1"));
    expect(stored).toMatchObject({ list: "known_bad", effect: "add", expires_at: T0 + 24 * HOUR, reason: "test feed" });

    clock.t = T0 + HOUR;
    await serve("feed-a", 200, "203.0.113.7\n");
    const [second] = await refreshSources(one(source("feed-a")), deps(clock));
    expect(second).toMatchObject({ state: "ok", entries: 1 });
    expect(await held("feed-a", clock.t)).toEqual([target("203.0.113.7")]);
  });

  it("keeps the last good copy while the source is down (SOURCE_STALE) until it expires (SOURCE_LAPSED)", async () => {
    const clock = { t: T0 };
    await serve("feed-down", 200, "192.0.2.10\n192.0.2.11\n");
    await refreshSources(one(source("feed-down")), deps(clock));

    clock.t = T0 + HOUR;
    await serve("feed-down", 503, "maintenance");
    const [down] = await refreshSources(one(source("feed-down")), deps(clock));
    expect(down).toMatchObject({ state: "SOURCE_STALE", entries: 2, last_success: T0, last_error: "SOURCE_HTTP_503", errors: 1 });
    expect(await held("feed-down", clock.t)).toHaveLength(2);

    const later = T0 + 25 * HOUR;
    expect(await held("feed-down", later)).toEqual([]);
    const status = (await hub().sourceStatus(later)).find((s) => s.id === "feed-down");
    expect(status).toMatchObject({ state: "SOURCE_LAPSED", entries: 0, last_error: "SOURCE_HTTP_503" });
  });

  it("rejects malformed data with a named error and keeps the last good copy", async () => {
    const clock = { t: T0 };
    await serve("feed-bad", 200, "192.0.2.20\n");
    await refreshSources(one(source("feed-bad")), deps(clock));
    await serve("feed-bad", 200, "<html><body>Sorry, we moved</body></html>\nnot an address\n");
    const [bad] = await refreshSources(one(source("feed-bad")), deps(clock));
    expect(bad?.state).toBe("SOURCE_STALE");
    expect(bad?.last_error).toMatch(/^SOURCE_MALFORMED: /);
    expect(await held("feed-bad", T0)).toEqual([target("192.0.2.20")]);
  });

  it("never re-adds what `exclude:` keeps out, and never overwrites an operator's entry", async () => {
    const clock = { t: T0 };
    await hub().putListEntry({
      target: target("192.0.2.99"),
      kind: "ip",
      list: "known_bad",
      effect: "remove",
      reason: "released by an operator",
      source: "cli",
      created_at: T0,
      expires_at: null,
    });
    await serve("feed-ex", 200, "17.5.6.0/24\n17.0.0.1\n192.0.2.30\n192.0.2.99\n");
    const [status] = await refreshSources(one(source("feed-ex"), [{ range: "17.0.0.0/8", reason: "Apple" }]), deps(clock));
    expect(status).toMatchObject({ state: "ok", entries: 1, excluded: 2 });
    expect(await held("feed-ex", T0)).toEqual([target("192.0.2.30")]);
    const operator = (await hub().listEntries(T0)).filter((e) => e.target === target("192.0.2.99"));
    expect(operator).toEqual([expect.objectContaining({ source: "cli", effect: "remove" })]);
  });

  it("ships no live source that re-adds the snapshot's exclusions", () => {
    // X4BNet's raw VPN and datacenter outputs (Private Relay, transit) stay out of the live layer.
    expect(bundledSources.sources.map((s) => s.url).filter((u) => u.includes("X4BNet"))).toEqual([]);
    expect(bundledSources.exclude.map((x) => x.range)).toContain("17.0.0.0/8");
  });

  it("the Cron Trigger refreshes the bundled sources (LIST_SOURCES_URL: local) and metrics show them", async () => {
    // One distinct documentation range per source, in the source's own format.
    for (const [i, s] of bundledSources.sources.entries()) {
      const range = `198.51.100.${i * 16}/28`;
      await serve(s.id, 200, s.format === "spamhaus-json" ? `{"cidr":"${range}","sblid":"SBL${i}"}\n{"type":"metadata"}\n` : `${range}\n`);
    }
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/30 * * * *" }), { ...env, LIST_SOURCES_URL: base }, ctx);
    await waitOnExecutionContext(ctx);
    const statuses = await hub().sourceStatus();
    for (const s of bundledSources.sources) expect(statuses.find((x) => x.id === s.id)).toMatchObject({ state: "ok", entries: 1 });
    const text = await hub().prometheus();
    expect(text).toContain('riskgate_list_source_entries{source="tor-exits-1",list="tor_exits"} 1');
    expect(text).toContain('riskgate_list_source_state{source="tor-exits-1",list="tor_exits",state="ok"} 1');
  });
});

describe("live layer storage", () => {
  // The number docs/lists.md quotes: `RISKGATE_TEST_VERBOSE=1 npx vitest run --project worker
  // test/worker/list-refresh.test.ts -t storage` prints live_lists.storage_bytes_per_entry.
  it("holds a 10,000-entry source; storage per entry measured in the Durable Object", async () => {
    const stub = env.RISKGATE_AUDIT.get(env.RISKGATE_AUDIT.idFromName("storage-measure"));
    const size = () => runInDurableObject(stub, (_i, state) => state.storage.sql.databaseSize);
    await stub.sourceStatus(T0); // schema created
    const before = await size();
    // Half addresses, half /24s, in 198.18.0.0/15 (RFC 2544 benchmarking space).
    const lines = Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` : `10.${(i >> 8) & 255}.${i & 255}.0/24`));
    await serve("feed-10k", 200, `${lines.join("\n")}\n`);
    const h = hub();
    const [status] = await refreshSources(one(source("feed-10k")), {
      ...deps({ t: T0 }),
      store: { storeSource: (...a) => stub.storeSource(...a), sourceFailed: (...a) => stub.sourceFailed(...a), sourceSynced: (id) => h.sourceSynced(id) },
    });
    expect(status).toMatchObject({ state: "ok", entries: 10_000 });
    const after = await size();
    expect(after).toBeGreaterThan(before);
    const json = JSON.stringify(await stub.listEntries(T0)).length;
    console.log(JSON.stringify({ type: "live_lists.storage_bytes_per_entry", entries: 10_000, bytes: after - before, per_entry: Math.round((after - before) / 10_000), reload_json_bytes: json }));
    // Measured, not asserted (BENCHMARKS.md, "Live lists"): an isolate's reload of the whole
    // layer against one whose version is unchanged, wall time through the RPC, mean of 5.
    const current = (await stub.liveLayer(null, T0))?.version ?? null;
    const reloadMs = async (known: number | null) => {
      const start = performance.now();
      for (let i = 0; i < 5; i++) await stub.liveLayer(known, T0);
      return Number(((performance.now() - start) / 5).toFixed(2));
    };
    const full = await reloadMs(null);
    const unchanged = await reloadMs(current);
    expect(await stub.liveLayer(current, T0)).toBeNull();
    console.log(JSON.stringify({ type: "live_lists.reload_ms", entries: 10_000, full, unchanged }));
  });
});

describe("CrowdSec decision stream", () => {
  const cs = (id: string) => source(id, { format: "crowdsec", apiKeyEnv: "CROWDSEC_API_KEY", reason: "crowdsec" });
  const ban = (value: string, duration: string, scope = "Ip") => ({
    duration,
    id: 1,
    origin: "crowdsec",
    scenario: "crowdsecurity/http-bf",
    scope,
    type: "ban",
    value,
  });

  it("imports the startup set, then applies deltas (a deletion removes the entry)", async () => {
    const clock = { t: T0 };
    await lapi("cs-a", {
      key: "bouncer-key",
      add: [
        ban("192.0.2.40", "3h59m"),
        ban("198.51.100.0/24", "1h0m0.5s", "Range"),
        { ...ban("192.0.2.41", "4h"), type: "captcha" },
        { ...ban("someone", "4h"), scope: "Username" },
      ],
    });
    const [startup] = await refreshSources(one(cs("cs-a")), deps(clock, { CROWDSEC_API_KEY: "bouncer-key" }));
    expect(startup).toMatchObject({ state: "ok", entries: 2 });
    const entries = (await hub().listEntries(T0)).filter((e) => e.source === "feed:cs-a");
    expect(entries.find((e) => e.target === target("192.0.2.40"))).toMatchObject({ expires_at: T0 + 3 * HOUR + 59 * 60_000, reason: "crowdsec: crowdsecurity/http-bf" });

    clock.t = T0 + 60_000;
    await lapi("cs-a", { add: [ban("203.0.113.60", "4h")], delete: ["192.0.2.40"] });
    const [delta] = await refreshSources(one(cs("cs-a")), deps(clock, { CROWDSEC_API_KEY: "bouncer-key" }));
    expect(delta).toMatchObject({ state: "ok", entries: 2 });
    expect(await held("cs-a", clock.t)).toEqual([target("198.51.100.0/24"), target("203.0.113.60")].sort());
  });

  it("a refused key is SOURCE_AUTH_FAILED and keeps the decisions; a missing one is SOURCE_NOT_CONFIGURED", async () => {
    const clock = { t: T0 };
    await lapi("cs-b", { key: "right", add: [ban("192.0.2.70", "2h")] });
    await refreshSources(one(cs("cs-b")), deps(clock, { CROWDSEC_API_KEY: "right" }));
    const [refused] = await refreshSources(one(cs("cs-b")), deps(clock, { CROWDSEC_API_KEY: "wrong" }));
    expect(refused).toMatchObject({ state: "SOURCE_STALE", entries: 1, last_error: "SOURCE_AUTH_FAILED: HTTP 403" });
    const [missing] = await refreshSources(one(cs("cs-b")), deps(clock));
    expect(missing?.last_error).toMatch(/^SOURCE_NOT_CONFIGURED/);
    // After a failure the next poll starts over (startup=true): the full set again.
    const [again] = await refreshSources(one(cs("cs-b")), deps(clock, { CROWDSEC_API_KEY: "right" }));
    expect(again).toMatchObject({ state: "ok", entries: 1 });
    expect(await held("cs-b", T0 + 3 * HOUR)).toEqual([]);
  });
});

describe("the live layer's version", () => {
  it("returns nothing to an isolate that holds the current version; a refresh, an operator write or a lift changes it", async () => {
    const h = hub();
    const layer = async (known: number | null) => h.liveLayer(known, T0);
    const start = await layer(null);
    if (start === null) throw new Error("a first read returns the layer");
    expect(await layer(start.version)).toBeNull();

    const clock = { t: T0 };
    await serve("ver-a", 200, "192.0.2.77\n");
    await refreshSources(one(source("ver-a")), deps(clock));
    const refreshed = await layer(start.version);
    expect(refreshed?.entries.map((e) => e.target)).toContain(target("192.0.2.77"));
    if (refreshed === null) throw new Error("unreachable");
    expect(await layer(refreshed.version)).toBeNull();

    await h.putListEntry({ target: target("192.0.2.78"), kind: "ip", list: "block", effect: "add", reason: "t", source: "api", created_at: T0, expires_at: null });
    const put = await layer(refreshed.version);
    expect(put?.entries.map((e) => e.target)).toContain(target("192.0.2.78"));
    if (put === null) throw new Error("unreachable");

    await h.recordLift({ kind: "ip", entity: "L".repeat(22), lifted_at: T0, expires_at: T0 + HOUR });
    const lifted = await layer(put.version);
    expect(lifted?.lifts).toContainEqual({ kind: "ip", entity: "L".repeat(22), lifted_at: T0, expires_at: T0 + HOUR });
    if (lifted === null) throw new Error("unreachable");
    // An expired lift is not handed out.
    expect((await h.liveLayer(null, T0 + HOUR))?.lifts.some((l) => l.entity === "L".repeat(22))).toBe(false);

    await h.removeListEntry(target("192.0.2.78"), "block");
    expect(await layer(lifted.version)).not.toBeNull();
  });
});

describe("a source refresh that changes nothing", () => {
  it("keeps the version (no isolate reloads); a changed set, or a renewal due, bumps it", async () => {
    const h = hub();
    const clock = { t: T0 };
    await serve("ver-same", 200, "203.0.113.90\n203.0.113.128/25\n");
    await refreshSources(one(source("ver-same")), deps(clock));
    const first = await h.liveLayer(null, clock.t);
    if (first === null) throw new Error("a first read returns the layer");

    // Same set an hour later: the status records the success, the layer is unchanged.
    clock.t = T0 + HOUR;
    const [same] = await refreshSources(one(source("ver-same")), deps(clock));
    expect(same).toMatchObject({ state: "ok", entries: 2, last_success: clock.t });
    expect(await h.liveLayer(first.version, clock.t)).toBeNull();
    // The entries keep the expiry isolates hold (renewed only when due, below).
    const held = async () => (await h.listEntries(clock.t)).find((e) => e.target === target("203.0.113.90"));
    expect(await held()).toMatchObject({ expires_at: T0 + 24 * HOUR });

    // A changed reason is a change.
    const [renamed] = await refreshSources(one(source("ver-same", { reason: "renamed feed" })), deps(clock));
    expect(renamed?.state).toBe("ok");
    const afterReason = await h.liveLayer(first.version, clock.t);
    expect(afterReason?.entries.find((e) => e.target === target("203.0.113.90"))?.reason).toBe("renamed feed");
    if (afterReason === null) throw new Error("unreachable");

    // A dropped target is a change.
    await serve("ver-same", 200, "203.0.113.90\n");
    await refreshSources(one(source("ver-same", { reason: "renamed feed" })), deps(clock));
    const afterDrop = await h.liveLayer(afterReason.version, clock.t);
    expect(afterDrop?.entries.map((e) => e.target)).not.toContain(target("203.0.113.128/25"));
    if (afterDrop === null) throw new Error("unreachable");

    // 13 h after the last write (T0 + 1 h), less than half of a renewed 24 h is left: the renewal is written.
    clock.t = T0 + 14 * HOUR;
    await refreshSources(one(source("ver-same", { reason: "renamed feed" })), deps(clock));
    const renewed = await h.liveLayer(afterDrop.version, clock.t);
    expect(renewed?.entries.find((e) => e.target === target("203.0.113.90"))?.expires_at).toBe(clock.t + 24 * HOUR);
  });

  it("an empty CrowdSec delta keeps the version", async () => {
    const clock = { t: T0 };
    const cs = source("cs-same", { format: "crowdsec", apiKeyEnv: "CROWDSEC_API_KEY", reason: "crowdsec" });
    const ban = { duration: "4h", id: 1, origin: "crowdsec", scenario: "crowdsecurity/http-bf", scope: "Ip", type: "ban", value: "192.0.2.91" };
    await lapi("cs-same", { key: "k", add: [ban] });
    await refreshSources(one(cs), deps(clock, { CROWDSEC_API_KEY: "k" }));
    const first = await hub().liveLayer(null, clock.t);
    if (first === null) throw new Error("a first read returns the layer");
    clock.t = T0 + 60_000;
    const [delta] = await refreshSources(one(cs), deps(clock, { CROWDSEC_API_KEY: "k" }));
    expect(delta).toMatchObject({ state: "ok", entries: 1 });
    expect(await hub().liveLayer(first.version, clock.t)).toBeNull();
    await lapi("cs-same", { delete: ["192.0.2.91"] });
    await refreshSources(one(cs), deps(clock, { CROWDSEC_API_KEY: "k" }));
    expect(await hub().liveLayer(first.version, clock.t)).not.toBeNull();
  });
});
