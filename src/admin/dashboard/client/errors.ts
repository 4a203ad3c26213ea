/** What the dashboard shows when the admin API cannot be reached. */
import { h, panel } from "./dom.ts";

/** A panel explaining the failure, above the last data shown; the next refresh tries again. */
export function panelsError(message: string): HTMLElement {
  const el = panel(
    "panel-error",
    "dashboard unavailable",
    12,
    h("p", {}, message),
    h("p", { class: "muted" }, "Retrying every 5 seconds. The panels below show the last data loaded; forms keep what you typed."),
  );
  el.setAttribute("role", "alert");
  return el;
}
