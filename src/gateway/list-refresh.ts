/**
 * The Cron Trigger's wiring (wrangler.toml `[triggers] crons`): the bundled sources
 * (build/list-sources.json, from rules/lists/sources.yaml) refreshed into the audit hub's
 * live layer (src/audit/list-refresh.ts).
 */
import compiled from "../../build/list-sources.json" with { type: "json" };
import { refreshSources } from "../audit/list-refresh.ts";
import type { CompiledSources, ListSourceStatus } from "../shared/list-sources.ts";
import { auditHub } from "./auditor.ts";
import type { WorkerEnv } from "./env.ts";

/** The sources this build refreshes. */
export const bundledSources = compiled as CompiledSources;

/** One scheduled refresh of every live source; LIST_SOURCES_URL (npm start) serves them locally. */
export function refreshListSources(env: WorkerEnv, sources: CompiledSources = bundledSources): Promise<ListSourceStatus[]> {
  const hub = auditHub(env);
  return refreshSources(sources, {
    store: {
      storeSource: (...args) => hub.storeSource(...args),
      sourceFailed: (...args) => hub.sourceFailed(...args),
      sourceSynced: (id) => hub.sourceSynced(id),
    },
    fetch: (url, init) => fetch(url, init),
    now: () => Date.now(),
    secret: (name) => {
      const value = (env as unknown as Record<string, unknown>)[name];
      return typeof value === "string" ? value : undefined;
    },
    baseUrl: env.LIST_SOURCES_URL || undefined,
  });
}
