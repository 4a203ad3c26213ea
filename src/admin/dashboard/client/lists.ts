/**
 * Block and release: the live reputation lists panel. The form adds an entry (an IP,
 * CIDR, ASN or country on a list, with a reason and an expiry); each row's button removes
 * it. Both call /__riskgate/api/lists, as `riskgate lists add|remove` does, and each
 * change is a `list.changed` audit event. The panel is kept across refreshes so a
 * half-typed form survives them.
 */
import * as api from "./api.ts";
import { empty, h, panel } from "./dom.ts";

function input(name: string, placeholder: string, required = true): HTMLInputElement {
  return h("input", { name, placeholder, required, "aria-label": name, "data-testid": `list-${name}` });
}

/** The panel and its refresh. */
export function listsPanel(): { element: HTMLElement; refresh: () => Promise<void> } {
  const table = h("div", { "data-testid": "live-entries" }, empty("Loading…"));
  const status = h("p", { class: "muted", role: "status", "data-testid": "list-status" });
  const target = input("target", "IP, CIDR, AS64500 or country");
  const list = h(
    "select",
    { name: "list", "aria-label": "list", "data-testid": "list-list" },
    ...["block", "known_bad", "allow"].map((l) => h("option", { value: l }, l)),
  );
  const reason = input("reason", "reason (kept in the audit trail)");
  const expires = input("expires", "expires, e.g. 12h (empty: never)", false);
  const form = h("form", { class: "list-form", "data-testid": "list-form" }, target, list, reason, expires, h("button", { type: "submit" }, "add"));

  async function refresh(): Promise<void> {
    try {
      const entries = await api.liveLists();
      table.replaceChildren(
        entries.length === 0
          ? empty("No live entries: only the bundled lists apply.")
          : h(
              "table",
              {},
              h("thead", {}, h("tr", {}, ...["list", "target", "reason", "source", "expires", ""].map((t) => h("th", {}, t)))),
              h(
                "tbody",
                {},
                ...entries.map((e) => {
                  const release = h("button", { type: "button", "data-release": e.display }, e.effect === "add" ? "release" : "undo");
                  release.addEventListener("click", () => void change("DELETE", { target: e.display, list: e.list, reason: "released from the dashboard" }));
                  return h(
                    "tr",
                    { "data-testid": "live-entry" },
                    h("td", {}, e.effect === "remove" ? `−${e.list}` : e.list),
                    h("td", {}, h("code", {}, e.display)),
                    h("td", {}, e.reason),
                    h("td", {}, e.source),
                    h("td", {}, e.expires_at === null ? "never" : new Date(e.expires_at).toLocaleString()),
                    h("td", {}, release),
                  );
                }),
              ),
            ),
      );
    } catch (err) {
      table.replaceChildren(empty(`Could not load the live lists: ${String(err)}`));
    }
  }

  async function change(method: "POST" | "DELETE", body: Record<string, string>): Promise<void> {
    const error = await api.changeList(method, body);
    status.textContent = error === null ? `${method === "POST" ? "added" : "released"} ${body.target} (${body.list})` : `refused: ${error}`;
    await refresh();
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body: Record<string, string> = { target: target.value, list: list.value, reason: reason.value };
    if (expires.value.trim() !== "") body.expires = expires.value.trim();
    void change("POST", body).then(() => {
      if (status.textContent?.startsWith("added")) form.reset();
    });
  });

  const element = panel("panel-lists", "block / release (live reputation lists)", 12, form, status, table);
  return { element, refresh };
}
