/**
 * This isolate's copy of the live reputation layer (docs/architecture.md, "Live lists").
 * The request path reads the copy and never waits for it: when it is older than the
 * refresh interval, the request hands a reload to waitUntil, which runs after the
 * response. A reload sends the version this isolate holds and gets nothing back when the
 * layer is unchanged, so an idle layer costs one row a refresh, not a re-index. An admin
 * write in this isolate replaces the copy at once, so its next request sees the change;
 * other isolates see it within the interval (plus one read). So do operators' penalty
 * lifts: each lift this isolate has not applied yet goes to `onLift` (the gateway drops its
 * cached blocks for the key).
 */
import { indexLive, type LiveEntry, type LiveIndex, type LiveLayer, type LiveLift } from "../../shared/live-list.ts";

/** How stale an isolate's copy may get before a request triggers a reload (ms). */
export const LIVE_REFRESH_MS = 10_000;

/** The per-isolate cache. */
export class LiveListCache {
  private current: LiveIndex | null = null;
  /** The hub's version of the copy; null when none was read (or an admin write replaced it). */
  private version: number | null = null;
  /** Lifts applied here: `${kind}:${entity}` → lifted_at. */
  private applied = new Map<string, number>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;

  constructor(
    /** The layer when it differs from version `known`, else null (RiskgateAuditHub.liveLayer). */
    private readonly load: (known: number | null) => Promise<LiveLayer | null>,
    private readonly onLift: (lift: LiveLift) => void = () => {},
    private readonly refreshMs: number = LIVE_REFRESH_MS,
  ) {}

  /** The index the request path reads (null until the first load finished). */
  get index(): LiveIndex | null {
    return this.current;
  }

  /** Replace the copy with what an admin write returned (the next reload reads the layer again). */
  set(entries: readonly LiveEntry[], now: number): void {
    this.current = indexLive(entries);
    this.version = null;
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
    this.loading = this.load(this.version)
      .then((layer) => {
        if (layer !== null) this.apply(layer);
      })
      .catch((err: unknown) => {
        console.warn(JSON.stringify({ type: "riskgate.live_lists_unavailable", message: err instanceof Error ? err.message : String(err) }));
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  private apply(layer: LiveLayer): void {
    this.current = indexLive(layer.entries);
    this.version = layer.version;
    const applied = new Map<string, number>();
    for (const lift of layer.lifts) {
      const key = `${lift.kind}:${lift.entity}`;
      if (this.applied.get(key) !== lift.lifted_at) this.onLift(lift);
      applied.set(key, lift.lifted_at);
    }
    // Only unexpired lifts come back: the map stays as small as the hub's table.
    this.applied = applied;
  }
}
