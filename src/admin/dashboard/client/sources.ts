/**
 * List sources: the scheduled refresh's per-source status (docs/lists.md, "Scheduled
 * refresh"): state (ok, SOURCE_STALE, SOURCE_LAPSED), entries held, last success, last error.
 */
import * as api from "./api.ts";
import { empty, h, num, panel } from "./dom.ts";

const when = (ms: number | null) => (ms === null ? "never" : new Date(ms).toLocaleString());

/** The panel and its refresh. */
export function sourcesPanel(): { element: HTMLElement; refresh: () => Promise<void> } {
  const table = h("div", { "data-testid": "list-sources" }, empty("Loading…"));
  async function refresh(): Promise<void> {
    try {
      const sources = await api.listSources();
      table.replaceChildren(
        sources.length === 0
          ? empty("No source refreshed yet (rules/lists/sources.yaml, live: true; the Cron Trigger runs every 30 minutes).")
          : h(
              "table",
              {},
              h("thead", {}, h("tr", {}, ...["source", "list", "state", "entries", "excluded", "last success", "last error"].map((t) => h("th", {}, t)))),
              h(
                "tbody",
                {},
                ...sources.map((s) =>
                  h(
                    "tr",
                    { "data-testid": "list-source", "data-state": s.state },
                    h("td", {}, h("code", {}, s.id)),
                    h("td", {}, s.list),
                    h("td", {}, s.state),
                    h("td", {}, num(s.entries)),
                    h("td", {}, num(s.excluded)),
                    h("td", {}, when(s.last_success)),
                    h("td", {}, s.last_error ?? ""),
                  ),
                ),
              ),
            ),
      );
    } catch (err) {
      table.replaceChildren(empty(`Could not load the list sources: ${String(err)}`));
    }
  }
  return { element: panel("panel-list-sources", "list sources (scheduled refresh)", 12, table), refresh };
}
