/**
 * Dashboard entry: fetch the summary and recent decisions, render, and refresh every
 * five seconds so an attack in progress shows up while you watch. A refresh redraws the
 * summary and the decisions only: the lists, sources and actions panels stay mounted, so
 * a form being filled in (a lift's reason after `lift…`) keeps its values and the focus.
 * A failed refresh says so in its own slot above the panels and leaves them (and the last
 * data, marked stale) where they are: the next refresh clears it.
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
const errorSlot = h("div", { class: "slot" });
const summarySlot = h("div", { class: "slot" });
const decisionsSlot = h("div", { class: "slot" });
let minutes = 60;
let lastUpdate: string | null = null;

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
    errorSlot.replaceChildren();
    mount(app);
    void lists.refresh();
    void sources.refresh();
    app.setAttribute("aria-busy", "false");
    lastUpdate = new Date().toLocaleTimeString();
    if (updated !== null) updated.textContent = `updated ${lastUpdate}`;
  } catch (err) {
    errorSlot.replaceChildren(panelsError(String(err)));
    mount(app);
    if (updated !== null) updated.textContent = lastUpdate === null ? "not loaded" : `stale: last updated ${lastUpdate}`;
  }
}

/** Mount the slots and panels once: moving a node out of the page drops its focus. */
function mount(root: HTMLElement): void {
  if (errorSlot.parentNode === root) return;
  root.replaceChildren(errorSlot, summarySlot, lists.element, sources.element, actions.element, decisionsSlot, viewer.element);
}

if (windowSelect instanceof HTMLSelectElement) {
  windowSelect.addEventListener("change", () => {
    minutes = Number(windowSelect.value);
    void refresh();
  });
}
void refresh();
setInterval(() => void refresh(), REFRESH_MS);
