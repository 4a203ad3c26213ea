/**
 * Calls to the admin JSON API. Credentials travel the way the page itself was
 * authorised (session cookie, Access cookie); the browser attaches them.
 */
import type { DashboardSummary, DecisionRow, EventView, SinkStatus } from "../../../audit/api-types.ts";

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`/__riskgate/api/${path}`, { credentials: "same-origin", ...init });
  if (response.status === 401) {
    // The session ended: reload, which shows the sign-in page.
    window.location.reload();
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** The panels' data for the last `minutes`. */
export function summary(minutes: number): Promise<DashboardSummary> {
  return call(`summary?minutes=${minutes}`);
}

/** The newest decisions. */
export function decisions(limit: number): Promise<DecisionRow[]> {
  return call(`decisions?limit=${limit}`);
}

/** One audit event, native and OCSF. */
export function event(id: string): Promise<EventView> {
  return call(`events/${encodeURIComponent(id)}`);
}

/** Ask the hub to deliver due outbox batches now. */
export function deliverNow(): Promise<SinkStatus[]> {
  return call("audit/deliver", { method: "POST" });
}
