/**
 * POST /v1/outcomes: the origin reports what became of a reset it received (sent,
 * verified, completed, abandoned, fraud_reported). Only verified and completed outcomes
 * teach the account's history (known devices, countries, ASNs, last verified location),
 * so nothing an unauthenticated client does can teach it. Any event may carry the
 * origin's `privileged` tag for the account (the origin's own statement, signed by it,
 * not something the user proved). Reports are idempotent: the same event id is counted
 * once (store tally with an event key) and re-applying its history update changes nothing.
 */
import { requestIdFrom } from "../reset/record.ts";
import { type OutcomeDetails, outcomeReceived } from "../audit/step-events.ts";
import { readCapped } from "../context/reset-body.ts";
import { RiskgateError } from "../shared/errors.ts";
import { type ExperimentOutcome, outcomeCostMicros, recordExperimentOutcome } from "../scoring/experiments/outcomes.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { historyKey } from "../scoring/signals/index.ts";
import { completionAdds } from "../scoring/signals/completion.ts";
import { type HistoryUpdate, StoreError } from "../store/port.ts";
import { LEARNING_EVENTS, type VerifiedOutcome, verifyOutcome } from "./verify.ts";

/** The store tally that counts outcome events (arm = event), once per event id. */
export const OUTCOME_TALLY = "riskgate.outcomes";

/** Largest accepted report; a real one (with the echoed decision) is about 2 KB. */
export const MAX_REPORT_BYTES = 16 * 1024;

const MEDIA_TYPES = new Set(["application/jwt", "application/jose", "text/plain"]);

/** Handle one report; every failure is a RiskgateError turned into a response by onError. */
export async function handleOutcome(
  request: Request,
  gateway: Gateway,
  ctx: Pick<ExecutionContext, "waitUntil">,
): Promise<Response> {
  const outcomeKeys = gateway.outcomeKeys;
  if (outcomeKeys === null) {
    throw new RiskgateError("ERR_OUTCOMES_DISABLED", "outcomes are not configured: set OUTCOME_VERIFY_KEYS to the origin's public key(s)");
  }
  const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!MEDIA_TYPES.has(type)) {
    throw new RiskgateError("ERR_UNSUPPORTED_MEDIA_TYPE", "send the report as application/jwt (a compact JWS)");
  }
  const body = new TextDecoder().decode(await readCapped(request, MAX_REPORT_BYTES)).trim();
  const outcome = await verifyOutcome(body, {
    outcomeKeys,
    decisionJwks: gateway.keys.publicJwks,
    decisionAudience: gateway.config.originUrl.origin,
    now: gateway.now(),
  });
  const learned = LEARNING_EVENTS.includes(outcome.event);
  const { first, experiment, firstForDecision } = await record(gateway, outcome, learned);
  // Audit after the response; a duplicate (same event id) was counted once already.
  const at = gateway.now();
  if (first) {
    const details = outcomeDetails(gateway, outcome, !firstForDecision);
    ctx.waitUntil(Promise.resolve().then(() => gateway.audit.emit(outcomeReceived(outcome, requestIdFrom(request.headers, gateway.newId), at, details))));
  }
  ctx.waitUntil(
    Promise.resolve().then(() =>
      console.log(
        JSON.stringify({
          type: "riskgate.outcome",
          ts: new Date(gateway.now()).toISOString(),
          decision: outcome.decisionId,
          event: outcome.event,
          account: outcome.account,
          learned,
          duplicate: !first,
          ...(outcome.privileged === null ? {} : { privileged: outcome.privileged }),
        }),
      ),
    ),
  );
  return Response.json(
    {
      status: "accepted",
      decision: outcome.decisionId,
      event: outcome.event,
      learned,
      duplicate: !first,
      ...(outcome.privileged === null ? {} : { privileged: outcome.privileged }),
      // The experiment arm this outcome was counted for (counted: false when already counted).
      ...(outcome.experiment === null || experiment === null ? {} : { experiment: { ...outcome.experiment, counted: experiment } }),
    },
    { status: 200, headers: { "cache-control": "no-store" } },
  );
}

/**
 * The channel, cost and currency the audit event (and so the dashboard's outcome and cost
 * panels) carries: the same figures experiments count (src/scoring/experiments/outcomes.ts).
 */
export function outcomeDetails(gateway: Pick<Gateway, "ruleset">, outcome: VerifiedOutcome, repeat: boolean): OutcomeDetails {
  const channel = outcome.reported.channel ?? outcome.decisionChannel;
  const sent = outcome.event === "sent";
  const cost = sent ? outcomeCostMicros(gateway.ruleset.spec, experimentOutcome(outcome, 0)) / 1_000_000 : null;
  return { channel, cost, currency: sent ? gateway.ruleset.spec.currency : null, repeat };
}

/**
 * Apply the outcome to the store; `first` is false when its event id was seen before,
 * `firstForDecision` false when the decision already had this outcome (another report id).
 */
async function record(
  gateway: Gateway,
  outcome: VerifiedOutcome,
  learned: boolean,
): Promise<{ first: boolean; experiment: boolean | null; firstForDecision: boolean }> {
  const eventKey = await gateway.hasher.hash("outcome", outcome.eventId);
  const decisionKey = await gateway.hasher.hash("outcome-decision", `${outcome.decisionId}\u0000${outcome.event}`);
  try {
    // History first: it is idempotent by construction (sets, and the last location only
    // moves forward in time), so a retry after a failure below re-applies it harmlessly.
    if (learned || outcome.privileged !== null) await gateway.store.recordHistory(historyUpdate(outcome, learned));
    // Then count the event once per event id (the store's tally de-duplicates for 7 days).
    // Experiments consume the same verified outcome (their own idempotent tally, in parallel).
    const add = { reports: 1 };
    const [first, experiment, firstForDecision] = await Promise.all([
      gateway.store.tally({ experiment: OUTCOME_TALLY, arm: outcome.event, now: gateway.now(), add, eventKey }),
      recordExperimentOutcome({ store: gateway.store, hasher: gateway.hasher, spec: gateway.ruleset.spec }, experimentOutcome(outcome, gateway.now())),
      // Once per decision and event: the dashboard's rates count resets, not reports.
      gateway.store.tally({ experiment: OUTCOME_TALLY, arm: `${outcome.event}.decisions`, now: gateway.now(), add, eventKey: decisionKey }),
      recordCompletion(gateway, outcome),
    ]);
    return { first, experiment, firstForDecision };
  } catch (err) {
    // Fail closed and say so: the origin retries (safely, see above).
    const code = err instanceof StoreError ? err.code : "STORE_UNAVAILABLE";
    throw new RiskgateError("ERR_STORE_UNAVAILABLE", `outcome not recorded (${code}); retry`, { "retry-after": "5" });
  }
}

/**
 * Sends and completions per request country and ASN, on any channel and on SMS/voice
 * (completion rates, src/scoring/signals/completion.ts). Sets of hashed decision ids:
 * idempotent, so a retried report adds nothing. One store call, for sent, verified and
 * completed outcomes.
 */
async function recordCompletion(gateway: Gateway, outcome: VerifiedOutcome): Promise<void> {
  const channel = outcome.reported.channel ?? outcome.decisionChannel;
  const adds = completionAdds({
    event: outcome.event,
    channel,
    country: outcome.seen.cc ?? null,
    asn: outcome.seen.asn ?? null,
    decisionKey: await gateway.hasher.hash("decision", outcome.decisionId),
  });
  if (adds.length === 0) return;
  await gateway.store.observe({ now: gateway.now(), hits: [], distinct: adds, historyKey: null });
}

/** The outcome as the experiments consumer reads it. */
function experimentOutcome(outcome: VerifiedOutcome, at: number): ExperimentOutcome {
  return {
    event: outcome.event,
    reportId: outcome.eventId,
    decisionId: outcome.decisionId,
    experiment: outcome.experiment,
    decisionChannel: outcome.decisionChannel,
    requestCountry: outcome.seen.cc ?? null,
    reported: outcome.reported,
    at,
  };
}

/**
 * What an outcome teaches: a learning one, what the decision saw at the time it was made;
 * any one, the origin's privileged tag as of when it signed the report.
 */
function historyUpdate(outcome: VerifiedOutcome, learned: boolean): HistoryUpdate {
  const { seen } = outcome;
  return {
    historyKey: historyKey(outcome.account),
    device: learned ? seen.dev : null,
    country: learned ? (seen.cc ?? null) : null,
    asn: learned ? (seen.asn ?? null) : null,
    location: learned && seen.loc !== undefined ? { lat: seen.loc[0], lon: seen.loc[1] } : null,
    at: outcome.decidedAt,
    ...(outcome.privileged === null ? {} : { privileged: { value: outcome.privileged, at: outcome.reportedAt } }),
  };
}
