/**
 * Calls to the admin JSON API. Credentials travel the way the page itself was
 * authorised (session cookie, Access cookie); the browser attaches them.
 */
import type { DashboardSummary, DecisionRow, EventView, SinkStatus } from "../../../audit/api-types.ts";
import type { ListSourceStatus } from "../../../shared/list-sources.ts";

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

/** A live reputation entry as the API lists it. */
export interface LiveEntryView {
  readonly target: string;
  readonly display: string;
  readonly kind: string;
  readonly list: string;
  readonly effect: "add" | "remove";
  readonly reason: string;
  readonly source: string;
  readonly created_at: number;
  readonly expires_at: number | null;
}

/** The live list entries. */
export async function liveLists(): Promise<LiveEntryView[]> {
  return (await call<{ entries: LiveEntryView[] }>("lists")).entries;
}

/** The scheduled list sources' refresh status. */
export async function listSources(): Promise<ListSourceStatus[]> {
  return (await call<{ sources?: ListSourceStatus[] }>("lists")).sources ?? [];
}

/** Add (block) or remove (release) a live entry; the error message on refusal. */
export function changeList(method: "POST" | "DELETE", body: Record<string, string>): Promise<string | null> {
  return write("lists", method, body);
}

/** Lift a key's penalty boxes; the error message on refusal. */
export function liftPenalty(body: { key: string; reason: string }): Promise<string | null> {
  return write("penalty/lift", "POST", body);
}

async function write(path: string, method: "POST" | "DELETE", body: Record<string, string>): Promise<string | null> {
  const response = await fetch(`/__riskgate/api/${path}`, {
    method,
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, source: "dashboard" }),
  });
  if (response.ok) return null;
  const parsed = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
  return parsed?.error?.message ?? `HTTP ${response.status}`;
}
