/** What the dashboard shows when the admin API cannot be reached. */
import { h, panel } from "./dom.ts";

/** A panel explaining the failure; the next refresh tries again. */
export function panelsError(message: string): HTMLElement {
  return panel("panel-error", "dashboard unavailable", 12, h("p", {}, message), h("p", { class: "muted" }, "Retrying every 5 seconds."));
}
