/**
 * Recent decisions with their explanation (reasons with rule ids and weights, shadow
 * reasons, dependency errors, origin result) and links to every audit event of the
 * decision. Opening an event shows it as stored and as sent to the SIEM (OCSF).
 */
import type { DecisionRow, EventView } from "../../../audit/api-types.ts";
import { empty, h, num, panel, pill } from "./dom.ts";

/** Callbacks the table needs. */
export interface DecisionHandlers {
  readonly isOpen: (eventId: string) => boolean;
  readonly toggle: (eventId: string) => void;
  readonly showEvent: (eventId: string) => void;
  /** Open the lift form on a refused row's key. */
  readonly lift?: (key: string) => void;
}

function reasonTable(title: string, reasons: DecisionRow["reasons"]): HTMLElement | null {
  if (reasons.length === 0) return null;
  return h(
    "table",
    { "data-testid": "reasons" },
    h("thead", {}, h("tr", {}, h("th", {}, title), h("th", {}, "rule id"), h("th", { class: "num" }, "weight"))),
    h("tbody", {}, ...reasons.map((r) => h("tr", {}, h("td", {}, h("code", {}, r.code)), h("td", {}, h("code", {}, r.rule)), h("td", { class: "num" }, r.weight)))),
  );
}

/** Non-zero facts as `section.name = value`, the numbers the rules compared. */
function factList(facts: DecisionRow["facts"]): HTMLElement | null {
  const items = Object.entries(facts).flatMap(([section, fields]) =>
    Object.entries(fields).flatMap(([name, value]) => {
      const shown = Array.isArray(value) ? value.join(", ") : String(value);
      return value === 0 || value === false || shown === "" ? [] : [h("code", {}, `${section}.${name} = ${shown}`)];
    }),
  );
  return items.length === 0 ? null : h("details", {}, h("summary", {}, `facts the rules saw (${items.length} non-zero)`), h("p", { class: "reasons" }, ...items));
}

function candidateLine(row: DecisionRow): HTMLElement | null {
  const c = row.candidate;
  if (c === null) return null;
  const codes = c.reasons.map((r) => r.code).join(", ") || "no reasons";
  return h("p", { class: "muted" }, `shadow candidate ${c.rules}: ${c.verdict}/${c.tier} score ${c.score} (${codes})${c.changed ? " — differs from live" : ""}`);
}

function explanation(row: DecisionRow, handlers: DecisionHandlers): HTMLElement {
  const origin = row.origin === null ? "not forwarded" : row.origin.status !== null ? `HTTP ${row.origin.status} in ${row.origin.ms} ms` : `${row.origin.error} after ${row.origin.ms} ms`;
  const events = row.events.map((e) => {
    const link = h("button", { type: "button", class: "link", "data-event-link": e.id }, `${e.type} #${e.seq} (${e.id})`);
    link.addEventListener("click", (ev) => {
      ev.stopPropagation();
      handlers.showEvent(e.id);
    });
    return h("li", {}, link);
  });
  return h(
    "div",
    { class: "explain", "data-testid": "explanation" },
    h("p", {}, `score ${row.score} → tier ${row.tier} → ${row.verdict} (${row.action}), channel ${row.channel}, mode ${row.mode}. Origin: ${origin}.`),
    reasonTable("reason", row.reasons) ?? h("p", { class: "muted" }, "No rule matched: the lowest tier applied."),
    reasonTable("shadow reason (not scored)", row.shadow_reasons),
    row.errors.length === 0 ? null : h("p", {}, "Dependency failures: ", ...row.errors.map((e) => h("code", {}, `${e.dependency} ${e.code} → ${e.failMode}`))),
    candidateLine(row),
    factList(row.facts),
    h("p", { class: "muted" }, `decision ${row.decision_id ?? "—"} · request ${row.request_id ?? "—"} · rules ${row.rules} · source ${row.source.slice(0, 8)} seq ${row.seq}`),
    h("p", {}, "Audit events:"),
    h("ul", {}, ...events),
  );
}

/** On a refused row: hand its key to the lift form (which asks for the reason). */
function liftButton(r: DecisionRow, handlers: DecisionHandlers): HTMLElement | null {
  const key = r.lift;
  if (key === undefined || handlers.lift === undefined) return null;
  const button = h("button", { type: "button", "data-lift": key, title: "lift this key's penalty box" }, "lift…");
  button.addEventListener("click", (ev) => {
    ev.stopPropagation();
    handlers.lift?.(key);
  });
  return button;
}

function row(r: DecisionRow, handlers: DecisionHandlers): HTMLElement[] {
  const open = handlers.isOpen(r.event_id);
  const tr = h(
    "tr",
    { class: open ? "decision open" : "decision", "data-testid": "decision-row", "data-event-id": r.event_id, "data-decision-id": r.decision_id ?? "" },
    h("td", {}, new Date(r.ts).toLocaleTimeString()),
    h("td", {}, pill(r.verdict), r.count > 1 ? h("span", { class: "muted", "data-testid": "decision-count" }, ` ×${r.count}`) : null),
    h("td", {}, r.tier),
    h("td", { class: "num" }, num(r.score)),
    h("td", {}, r.action, liftButton(r, handlers)),
    h("td", { class: "reasons" }, ...(r.reasons.length === 0 ? [h("span", { class: "muted" }, "none")] : r.reasons.map((x) => h("code", { title: `rule ${x.rule}, weight ${x.weight}` }, x.code)))),
  );
  tr.addEventListener("click", () => handlers.toggle(r.event_id));
  if (!open) return [tr];
  return [tr, h("tr", {}, h("td", { colspan: 6 }, explanation(r, handlers)))];
}

/** The recent decisions panel. */
export function decisionsPanel(rows: readonly DecisionRow[], handlers: DecisionHandlers): HTMLElement {
  const head = h("tr", {}, ...["time", "verdict", "tier", "score", "action", "reasons"].map((t) => h("th", { class: t === "score" ? "num" : null }, t)));
  return panel(
    "panel-decisions",
    "recent decisions (click one for its explanation and audit trail)",
    12,
    rows.length === 0 ? empty("No decisions recorded yet.") : h("table", {}, h("thead", {}, head), h("tbody", {}, ...rows.flatMap((r) => row(r, handlers)))),
  );
}

/** The audit event viewer: one event, native or OCSF. */
export function eventViewer(): { element: HTMLElement; show: (view: EventView) => void; fail: (message: string) => void } {
  const pre = h("pre", { class: "event", "data-testid": "event-json" });
  const title = h("p", { class: "muted", "data-testid": "event-title" }, "Open an audit event from a decision above.");
  let current: EventView | null = null;
  let format: "event" | "ocsf" = "event";
  const tabs = (["event", "ocsf"] as const).map((f) => {
    const b = h("button", { type: "button", "aria-pressed": f === format ? "true" : "false", "data-format": f }, f === "event" ? "as recorded" : "as OCSF");
    b.addEventListener("click", () => {
      format = f;
      render();
    });
    return b;
  });
  function render(): void {
    for (const t of tabs) t.setAttribute("aria-pressed", t.dataset.format === format ? "true" : "false");
    if (current === null) return;
    title.textContent = `${current.event.type} ${current.event.id} (source ${current.event.source.slice(0, 8)}, seq ${current.event.seq})`;
    pre.textContent = JSON.stringify(format === "event" ? current.event : current.ocsf, null, 2);
  }
  return {
    element: panel("panel-event", "audit event", 12, title, h("div", { class: "tabs" }, ...tabs), pre),
    show(view) {
      current = view;
      render();
    },
    fail(message) {
      title.textContent = message;
    },
  };
}
