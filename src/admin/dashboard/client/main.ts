/**
 * Dashboard entry: fetch the summary and recent decisions, render, and refresh every
 * five seconds so an attack in progress shows up while you watch.
 */
import * as api from "./api.ts";
import { decisionsPanel, eventViewer } from "./decisions.ts";
import { panelsError } from "./errors.ts";
import { actionsPanel } from "./actions.ts";
import { listsPanel } from "./lists.ts";
import { sourcesPanel } from "./sources.ts";
import { summaryPanels } from "./panels.ts";

const REFRESH_MS = 5_000;

const app = document.getElementById("app");
const updated = document.getElementById("updated");
const windowSelect = document.getElementById("window");
const viewer = eventViewer();
const lists = listsPanel();
const sources = sourcesPanel();
const actions = actionsPanel(() => lists.refresh());
const open = new Set<string>();
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
    app.replaceChildren(...summaryPanels(summary, deliver), lists.element, sources.element, actions.element, decisionsPanel(decisions, handlers), viewer.element);
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
