/**
 * Verifying an outcome report: the origin's signature on the report, then riskgate's
 * own signature on the decision token the report echoes. Each failure is a typed error
 * with a stable code the origin can act on (docs/outcomes.md).
 */
import { createLocalJWKSet, type JWK, jwtVerify } from "jose";
import type { ExperimentArm } from "../shared/decision.ts";
import { RiskgateError } from "../shared/errors.ts";
import { parseExperimentClaim, parseReportedSend, type ReportedSend } from "../scoring/experiments/outcomes.ts";
import { ISSUER } from "../origin/decision-token.ts";
import { parseSeen, type SeenClaims } from "./claims.ts";
import type { OutcomeKeys } from "./keys.ts";

/** The events an origin reports. */
export const OUTCOME_EVENTS = ["sent", "verified", "completed", "abandoned", "fraud_reported"] as const;
/** One event. */
export type OutcomeEvent = (typeof OUTCOME_EVENTS)[number];
/** Only these teach history: the user proved control of the account. */
export const LEARNING_EVENTS: readonly OutcomeEvent[] = ["verified", "completed"];

/** The `aud` an outcome report must carry. */
export const OUTCOME_AUDIENCE = "riskgate";
/** The JWS `typ` of an outcome report. */
export const OUTCOME_TYP = "riskgate-outcome+jwt";
/** How long after the decision an outcome is accepted (reset links rarely live longer). */
export const OUTCOME_WINDOW_SECONDS = 48 * 3600;
/** How old a signed report may be when it arrives (the origin signs just before sending). */
export const REPORT_MAX_AGE_SECONDS = 300;

/** A verified report. */
export interface VerifiedOutcome {
  readonly eventId: string;
  readonly event: OutcomeEvent;
  readonly decisionId: string;
  /** Hashed account key from the decision. */
  readonly account: string;
  readonly seen: SeenClaims;
  /** When the decision was made (ms), i.e. when the user was where `seen` says. */
  readonly decidedAt: number;
  /** The experiment arm the decision carried (docs/experiments.md); null when not enrolled. */
  readonly experiment: ExperimentArm | null;
  /** The channel the decision named. */
  readonly decisionChannel: string | null;
  /** What the origin reported about a send: channel, actual cost, destination country. */
  readonly reported: ReportedSend;
  /** The origin's `privileged` tag for the account (true sets, false clears); null when absent. */
  readonly privileged: boolean | null;
  /** When the origin signed the report (`iat`, ms): orders its privileged statements. */
  readonly reportedAt: number;
}

/** What verification needs. */
export interface VerifyDeps {
  readonly outcomeKeys: OutcomeKeys;
  /** riskgate's own public decision keys (current and rotated-out). */
  readonly decisionJwks: readonly JWK[];
  /** The audience decisions were signed for: the origin's URL origin. */
  readonly decisionAudience: string;
  readonly now: number;
}

const ALGS = ["ES256", "EdDSA", "Ed25519"];

function invalid(message: string): RiskgateError {
  return new RiskgateError("ERR_OUTCOME_INVALID", message);
}

/** Verify a compact JWS outcome report; throws RiskgateError with a specific code. */
export async function verifyOutcome(report: string, deps: VerifyDeps): Promise<VerifiedOutcome> {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(report)) {
    throw invalid("body must be a compact JWS (header.payload.signature)");
  }
  const currentDate = new Date(deps.now);
  const payload = await verifyOriginSigned(report, deps.outcomeKeys, OUTCOME_TYP, currentDate, "ERR_OUTCOME_SIGNATURE", "outcome report");
  const event = payload.event;
  if (typeof event !== "string" || !(OUTCOME_EVENTS as readonly string[]).includes(event)) {
    throw invalid(`event must be one of ${OUTCOME_EVENTS.join(", ")}`);
  }
  const eventId = payload.jti;
  if (typeof eventId !== "string" || eventId.length === 0 || eventId.length > 128) throw invalid("jti (the event id) must be 1-128 characters");
  if (typeof payload.decision_id !== "string") throw invalid("decision_id is required");
  if (typeof payload.decision !== "string") throw invalid("decision (the Riskgate-Decision token the origin received) is required");
  let reported: ReportedSend;
  try {
    reported = parseReportedSend(payload);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const privileged = payload.privileged ?? null;
  if (privileged !== null && typeof privileged !== "boolean") throw invalid("privileged must be true or false when present");
  // iat is required above and checked fresh by jwtVerify.
  const reportedAt = Number(payload.iat) * 1000;
  return { eventId, event: event as OutcomeEvent, reported, privileged, reportedAt, ...(await verifyDecision(payload.decision, payload.decision_id, deps, currentDate)) };
}

/**
 * The origin's signature on a statement it sends (an outcome report, a roster update):
 * a key in OUTCOME_VERIFY_KEYS, the statement's own `typ`, `aud` riskgate, a `jti` and an
 * `iat` at most REPORT_MAX_AGE_SECONDS old. Returns the payload; throws `code` (401).
 */
export async function verifyOriginSigned(
  token: string,
  keys: OutcomeKeys,
  typ: string,
  currentDate: Date,
  code: "ERR_OUTCOME_SIGNATURE" | "ERR_ACCOUNTS_SIGNATURE",
  what: string,
): Promise<Record<string, unknown>> {
  try {
    const { payload } = await jwtVerify(token, keys.keySet, {
      audience: OUTCOME_AUDIENCE,
      typ,
      algorithms: ALGS,
      maxTokenAge: REPORT_MAX_AGE_SECONDS,
      requiredClaims: ["jti", "iat"],
      currentDate,
    });
    return payload;
  } catch (err) {
    const why = (err as { code?: string }).code ?? "ERR_JWS_INVALID";
    throw new RiskgateError(code, `${what} rejected (${why}): sign it with a key in OUTCOME_VERIFY_KEYS, typ ${typ}, aud ${OUTCOME_AUDIENCE}, fresh iat`);
  }
}

/** Verify that riskgate issued the echoed decision, for this origin, recently enough. */
async function verifyDecision(
  token: string,
  decisionId: string,
  deps: VerifyDeps,
  currentDate: Date,
): Promise<Omit<VerifiedOutcome, "eventId" | "event" | "reported" | "privileged" | "reportedAt">> {
  const unknown = (why: string) => new RiskgateError("ERR_DECISION_UNKNOWN", `unknown decision ${JSON.stringify(decisionId.slice(0, 64))}: ${why}`);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...deps.decisionJwks] }), {
      issuer: ISSUER,
      audience: deps.decisionAudience,
      typ: "riskgate-decision+jwt",
      algorithms: ALGS,
      // The token lived 60 s for forwarding; as evidence for an outcome it is good for the
      // outcome window, so expiry is relaxed by that much and the age bounded by it.
      clockTolerance: OUTCOME_WINDOW_SECONDS,
      maxTokenAge: OUTCOME_WINDOW_SECONDS,
      currentDate,
    }));
  } catch (err) {
    const code = (err as { code?: string }).code ?? "ERR_JWS_INVALID";
    throw unknown(code === "ERR_JWT_EXPIRED" ? "the decision is older than the outcome window" : `not issued by this gateway (${code})`);
  }
  if (payload.jti !== decisionId) throw unknown("decision_id does not match the decision token's jti");
  const seen = parseSeen(payload.seen);
  if (typeof payload.acct !== "string" || seen === null || typeof payload.iat !== "number") {
    throw unknown("the decision token carries no signal claims (issued before outcomes existed?)");
  }
  return {
    decisionId,
    account: payload.acct,
    seen,
    decidedAt: payload.iat * 1000,
    experiment: parseExperimentClaim(payload.experiment),
    decisionChannel: typeof payload.channel === "string" ? payload.channel : null,
  };
}
