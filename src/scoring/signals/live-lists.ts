/**
 * This isolate's copy of the live reputation layer (docs/architecture.md, "Live lists").
 * The request path reads the copy and never waits for it: when it is older than the
 * refresh interval, the request hands a reload to waitUntil, which runs after the
 * response. An admin write in this isolate replaces the copy at once, so its next
 * request sees the change; other isolates see it within the interval (plus one read).
 */
import { indexLive, type LiveEntry, type LiveIndex } from "../../shared/live-list.ts";

/** How stale an isolate's copy may get before a request triggers a reload (ms). */
export const LIVE_REFRESH_MS = 10_000;

/** The per-isolate cache. */
export class LiveListCache {
  private current: LiveIndex | null = null;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly load: () => Promise<readonly LiveEntry[]>,
    private readonly refreshMs: number = LIVE_REFRESH_MS,
  ) {}

  /** The index the request path reads (null until the first load finished). */
  get index(): LiveIndex | null {
    return this.current;
  }

  /** Replace the copy (after a load, or with what an admin write returned). */
  set(entries: readonly LiveEntry[], now: number): void {
    this.current = indexLive(entries);
    this.loadedAt = now;
  }

  /**
   * A reload to pass to waitUntil when the copy is stale and none is running; null
   * otherwise. A failed load keeps the old copy (the bundled lists still apply) and is
   * retried after the interval.
   */
  refresh(now: number): Promise<void> | null {
    if (this.loading !== null || now - this.loadedAt < this.refreshMs) return null;
    this.loadedAt = now;
    this.loading = this.load()
      .then((entries) => this.set(entries, now))
      .catch((err: unknown) => {
        console.warn(JSON.stringify({ type: "riskgate.live_lists_unavailable", message: err instanceof Error ? err.message : String(err) }));
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }
}
