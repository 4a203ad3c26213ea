/**
 * Dashboard entry: fetch the summary and recent decisions, render, and refresh every
 * five seconds so an attack in progress shows up while you watch. A refresh redraws the
 * summary and the decisions only: the lists, sources and actions panels stay mounted, so
 * a form being filled in (a lift's reason after `lift…`) keeps its values and the focus.
 */
import * as api from "./api.ts";
import { decisionsPanel, eventViewer } from "./decisions.ts";
import { panelsError } from "./errors.ts";
import { actionsPanel } from "./actions.ts";
import { listsPanel } from "./lists.ts";
import { sourcesPanel } from "./sources.ts";
import { summaryPanels } from "./panels.ts";
import { h } from "./dom.ts";

const REFRESH_MS = 5_000;

const app = document.getElementById("app");
const updated = document.getElementById("updated");
const windowSelect = document.getElementById("window");
const viewer = eventViewer();
const lists = listsPanel();
const sources = sourcesPanel();
const actions = actionsPanel(() => lists.refresh());
const open = new Set<string>();
// Grid items laid out in place (`display: contents`), redrawn on every refresh.
const summarySlot = h("div", { class: "slot" });
const decisionsSlot = h("div", { class: "slot" });
let minutes = 60;

async function showEvent(id: string): Promise<void> {
  try {
    viewer.show(await api.event(id));
    viewer.element.scrollIntoView({ behavior: "smooth", block: "nearest" });
  } catch (err) {
    viewer.fail(`Could not load event ${id}: ${String(err)}`);
  }
}

async function refresh(): Promise<void> {
  if (app === null) return;
  try {
    const [summary, decisions] = await Promise.all([api.summary(minutes), api.decisions(50)]);
    const handlers = {
      isOpen: (id: string) => open.has(id),
      toggle: (id: string) => {
        if (!open.delete(id)) open.add(id);
        void refresh();
      },
      showEvent: (id: string) => void showEvent(id),
      lift: actions.lift,
    };
    const deliver = () => void api.deliverNow().then(refresh);
    summarySlot.replaceChildren(...summaryPanels(summary, deliver));
    decisionsSlot.replaceChildren(decisionsPanel(decisions, handlers));
    // Mounted once (again after an error): moving a node out of the page drops its focus.
    if (summarySlot.parentNode !== app) app.replaceChildren(summarySlot, lists.element, sources.element, actions.element, decisionsSlot, viewer.element);
    void lists.refresh();
    void sources.refresh();
    app.setAttribute("aria-busy", "false");
    if (updated !== null) updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    app.replaceChildren(panelsError(String(err)), viewer.element);
  }
}

if (windowSelect instanceof HTMLSelectElement) {
  windowSelect.addEventListener("change", () => {
    minutes = Number(windowSelect.value);
    void refresh();
  });
}
void refresh();
setInterval(() => void refresh(), REFRESH_MS);
