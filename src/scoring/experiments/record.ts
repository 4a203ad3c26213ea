/**
 * The record stage for experiments, run after the response (waitUntil): count the
 * decision's exposure when the reset was forwarded, and refresh this isolate's view of stopped arms when it is due.
 * Neither adds anything before the response; a failure is logged and costs only a
 * missing count (the view's own fail mode is in monitor.ts).
 */
import type { Decision } from "../../shared/decision.ts";
import type { Store } from "../../store/port.ts";
import type { ExperimentMonitor } from "./monitor.ts";
import { exposureUpdate } from "./tallies.ts";

/** What recording needs. */
export interface RecordDeps {
  readonly store: Store;
  readonly experiments: ExperimentMonitor | null;
}

/**
 * Count the exposure of an enrolled decision made at `now`, then refresh the view if due.
 * Only a forwarded reset is exposed to its arm's channel: a decision that a rate-limit
 * ladder turned into a challenge, a 429 or a silent deny after enrolment reached no one
 * through the arm, so it is not counted (rules/experiments.yaml: allowed requests only).
 */
export async function recordExperiment(deps: RecordDeps, decision: Decision, now: number, forwarded: boolean): Promise<void> {
  const arm = decision.experiment;
  if (arm !== undefined && forwarded) {
    try {
      await deps.store.tally(exposureUpdate(arm.id, arm.arm, now));
    } catch (err) {
      console.error(JSON.stringify({ type: "riskgate.exposure_not_counted", experiment: arm.id, arm: arm.arm, code: (err as { code?: unknown }).code ?? "STORE_UNAVAILABLE" }));
    }
  }
  await deps.experiments?.refreshIfDue(now);
}
