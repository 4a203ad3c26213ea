/**
 * The per-isolate view of which arms are stopped, kept off the decision path: deciding
 * reads memory only; the view is refreshed after a response (waitUntil) at most every
 * `refreshMs`, by reading the experiment's tallies. The refresh is also where guardrails
 * are tested: an arm that crosses its bound gets a sticky `stopped.<metric>` marker in
 * the store, so every isolate (and every report) sees the stop from then on.
 *
 * Staleness: a view older than `refreshMs` is still used for the request at hand and
 * refreshed right after its response, so an isolate can hand out an arm another isolate
 * just stopped only until its own next refresh completes. Fail mode: while this isolate
 * has no view yet, or its refreshes have been failing and its view is older than
 * `maxAgeMs` (store unreachable), nobody is enrolled: the tier's own channels are used
 * and nothing is counted.
 */
import type { Store } from "../../store/port.ts";
import { activeExperiments, type CompiledExperiment, type ExperimentRuleset } from "./compile.ts";
import { trippedGuardrail } from "./guardrails.ts";
import { HOLDOUT_ARM } from "./schema.ts";
import { countsByArm, stopUpdate } from "./tallies.ts";

/** How fresh the view must be. */
export interface MonitorOptions {
  /** Refresh after a response once the view is this old (default 10 s). */
  readonly refreshMs?: number;
  /** Enrol nobody once refreshes fail and the view is this old (default 60 s). */
  readonly maxAgeMs?: number;
  /** Where refresh failures and stops are logged (default: console, one JSON line). */
  readonly log?: (line: Record<string, unknown>) => void;
}

interface View {
  readonly at: number;
  readonly stopped: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Stopped arms of the running experiments, as this isolate knows them. */
export class ExperimentMonitor {
  private view: View | null = null;
  /** Set while refreshes fail (cleared by the next success). */
  private failing = false;
  private inflight: Promise<void> | null = null;
  private readonly refreshMs: number;
  private readonly maxAgeMs: number;
  private readonly log: (line: Record<string, unknown>) => void;

  constructor(
    private readonly ruleset: ExperimentRuleset,
    private readonly store: Store,
    options: MonitorOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.log = options.log ?? ((line) => console.log(JSON.stringify(line)));
  }

  /** Stopped arms of experiment `id` at `now`; null when this isolate has no view it can trust. */
  stopped(id: string, now: number): ReadonlySet<string> | null {
    const view = this.view;
    if (view === null || (this.failing && Math.abs(now - view.at) > this.maxAgeMs)) return null;
    return view.stopped.get(id) ?? new Set();
  }

  /** A refresh when one is due (run it in waitUntil), or null. Never two at once. */
  refreshIfDue(now: number): Promise<void> | null {
    if (this.inflight !== null || activeExperiments(this.ruleset.experiments, now).length === 0) return null;
    if (this.view !== null && Math.abs(now - this.view.at) < this.refreshMs) return null;
    this.inflight = this.refresh(now).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** Read every running experiment's tallies, apply guardrails, and replace the view. */
  async refresh(now: number): Promise<void> {
    try {
      const experiments = activeExperiments(this.ruleset.experiments, now);
      const stopped = await Promise.all(experiments.map((e) => this.stoppedArms(e, now)));
      this.view = { at: now, stopped: new Map(experiments.map((e, i) => [e.id, stopped[i] ?? new Set<string>()])) };
      this.failing = false;
    } catch (err) {
      this.failing = true;
      // The view ages out (maxAgeMs) and enrolment stops: never enrol on unknown state.
      this.log({ type: "riskgate.experiments_refresh_failed", code: (err as { code?: unknown }).code ?? "STORE_UNAVAILABLE" });
    }
  }

  private async stoppedArms(experiment: CompiledExperiment, now: number): Promise<Set<string>> {
    const rows = await this.store.readTallies(experiment.id);
    const counts = countsByArm(rows, experiment.arms.map((a) => a.id));
    const stopped = new Set<string>();
    for (const [arm, c] of counts) {
      if (c.stopped.size > 0) {
        stopped.add(arm);
        continue;
      }
      const metric = trippedGuardrail(experiment, c);
      if (metric === null || arm === HOLDOUT_ARM) continue;
      await this.store.tally(stopUpdate(experiment.id, arm, metric, now));
      this.log({ type: "riskgate.experiment_arm_stopped", experiment: experiment.id, arm, guardrail: metric, exposures: c.exposures });
      stopped.add(arm);
    }
    return stopped;
  }
}
