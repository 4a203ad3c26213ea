/**
 * Tallies the screen stage's refusals (src/reset/screen.ts) per blocked key and reports each
 * key once per window as one `ratelimit.refused` event carrying the count. Every refused
 * response in a window carries the same decision id, the event's `decision_id`, so a
 * client's 429 can still be traced to the audit trail.
 *
 * Nothing waits in memory without a pending waitUntil holding it: the request that opens a
 * window passes the window's flush to waitUntil, which keeps it running after that
 * response (the later requests of the window add nothing to wait for: handing each one
 * the same promise cost more than the rest of the refusal).
 */
import type { AuditInput, RateLimitRefusedData } from "../audit/events.ts";
import type { Refusal } from "./screen.ts";

/** Default tally window: a blocked key costs the audit trail at most one event a second. */
export const REFUSAL_WINDOW_MS = 1000;

/** What the tally needs. */
export interface RefusalTallyOptions {
  readonly newId: () => string;
  readonly windowMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface Entry {
  readonly id: string;
  readonly refusal: Refusal;
  readonly route: string;
  readonly tier: string;
  readonly first: number;
  last: number;
  count: number;
  retryAfterS: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Per-isolate refusal tally. */
export class RefusalTally {
  private entries = new Map<string, Entry>();
  private flushing: Promise<readonly AuditInput[]> | null = null;
  private readonly windowMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: RefusalTallyOptions) {
    this.windowMs = options.windowMs ?? REFUSAL_WINDOW_MS;
    this.sleep = options.sleep ?? realSleep;
  }

  /**
   * Count one refused request at `now`. Returns the decision id its response carries and,
   * when this request opened the window, the window's events once it closes (emit them
   * inside waitUntil).
   */
  add(refusal: Refusal, route: string, tier: string, now: number): { id: string; reported: Promise<readonly AuditInput[]> | null } {
    const key = `${refusal.ladder.name}\u0000${refusal.ladder.step}\u0000${refusal.entity}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { id: this.options.newId(), refusal, route, tier, first: now, last: now, count: 0, retryAfterS: 0 };
      this.entries.set(key, entry);
    }
    entry.count++;
    entry.last = now;
    entry.retryAfterS = Math.max(entry.retryAfterS, refusal.retryAfterS);
    if (this.flushing !== null) return { id: entry.id, reported: null };
    this.flushing = this.flush();
    return { id: entry.id, reported: this.flushing };
  }

  private async flush(): Promise<readonly AuditInput[]> {
    await this.sleep(this.windowMs);
    const entries = [...this.entries.values()];
    this.entries = new Map();
    this.flushing = null;
    return entries.map(toEvent);
  }
}

function toEvent(entry: Entry): AuditInput {
  const { ladder } = entry.refusal;
  const data: RateLimitRefusedData = {
    route: entry.route,
    ladder: ladder.name,
    step: ladder.step === "penalty" ? "penalty" : "block",
    key: ladder.key,
    entity: entry.refusal.entity,
    count: entry.count,
    first_at: new Date(entry.first).toISOString(),
    last_at: new Date(entry.last).toISOString(),
    retry_after_s: entry.retryAfterS,
    tier: entry.tier,
  };
  return { type: "ratelimit.refused", request_id: null, decision_id: entry.id, at: entry.last, data };
}
