/**
 * The record stage: turn what happened to one reset request into audit events, and
 * describe the isolate at start-up. Runs after the response (inside waitUntil); it
 * only reads values the request path already computed, so it costs no extra I/O.
 */
import type { ActResult } from "./act.ts";
import type { RequestContext } from "../context/index.ts";
import type { CandidateSummary, Decision, Reason } from "../shared/decision.ts";
import type { OriginResult } from "../origin/forward.ts";
import { type ForwardOutcome, originAccepted } from "./forward-job.ts";
import type { LadderState } from "../scoring/policy/rate-limit.ts";
import { type Facts, nonZeroFacts } from "../scoring/rules/context-schema.ts";
import type { Auditor } from "../audit/auditor.ts";
import type { DecisionLogLine, LogSink } from "../audit/decision-log.ts";
import type { AuditEvent, AuditInput, DecisionData, ForwardData } from "../audit/events.ts";
import { challengeSolvedData, rateLimitStepData } from "../audit/step-events.ts";

/** Everything known about one scored request once it has been answered. */
export interface RequestRecord {
  readonly requestId: string;
  readonly method: string;
  readonly ctx: RequestContext;
  readonly decision: Decision;
  readonly shadowReasons: readonly Reason[];
  readonly facts: Facts;
  readonly candidate: CandidateSummary | null;
  readonly storeName: string;
  readonly storeMs: number | null;
  readonly result: ActResult;
  /**
   * The forward's outcome once known: the client's own wait (`respond: origin`) or the
   * delivery after the response. `final: false`: handed to the queue, whose consumer
   * emits the `forward` event at the end. Null: not forwarded.
   */
  readonly forward?: ForwardOutcome | null;
  readonly originUrl: URL;
  /** Milliseconds from the route starting to the response being ready. */
  readonly ms: number;
  /** Rate-limit ladders not at `allow` (or with a waived CAPTCHA step), for the log. */
  readonly rateLimits?: DecisionLogLine["rate_limits"];
  /** The CAPTCHA step, when it ran. */
  readonly captcha?: DecisionLogLine["captcha"];
  /** Every rate-limit ladder's state (`ratelimit.step` events for those not at `allow`). */
  readonly ladders?: readonly LadderState[];
  /** The configured CAPTCHA provider (`turnstile`, ...), or null without one. */
  readonly captchaProvider?: string | null;
}

/** The decision event's payload (`facts`: the non-zero ones). */
function decisionData(r: RequestRecord, facts: Facts): DecisionData {
  const { ctx, decision } = r;
  return {
    route: ctx.route.path,
    method: r.method,
    verdict: decision.verdict,
    tier: decision.tier,
    score: decision.score,
    channel: decision.channel,
    mode: decision.mode,
    reasons: decision.reasons,
    shadow_reasons: r.shadowReasons,
    errors: decision.errors,
    action: r.result.action,
    account: ctx.accountKey,
    account_counted: ctx.keys.account,
    ip: ctx.keys.ip,
    device: ctx.keys.device,
    experiment: decision.experiment ?? null,
    country: ctx.geo?.country ?? null,
    asn: ctx.geo === null || ctx.geo.asn === 0 ? null : ctx.geo.asn,
    store: r.storeName,
    store_ms: r.storeMs,
    ms: r.ms,
    facts,
    candidate: r.candidate,
  };
}

/**
 * The forward event's payload for a delivery's final outcome: `ok` only for an answer the
 * origin accepted (2xx/3xx; a 5xx is `ORIGIN_ERROR`, a 4xx `ORIGIN_REJECTED`), `lost`
 * when a reset sent with the uniform answer never reached the origin.
 */
export function forwardData(originUrl: URL, respond: "uniform" | "origin", outcome: ForwardOutcome): ForwardData {
  const { origin, attempts } = outcome;
  const ok = originAccepted(origin);
  return {
    origin: originUrl.origin,
    ok,
    status: origin.ok ? origin.response.status : null,
    error: ok ? null : originError(origin),
    ms: origin.ms,
    respond,
    attempts,
    lost: !ok && respond === "uniform",
  };
}

/** The failure code of an origin result that was not accepted. */
export function originError(origin: OriginResult): string {
  if (!origin.ok) return origin.code;
  return origin.response.status >= 500 ? "ORIGIN_ERROR" : "ORIGIN_REJECTED";
}

/** The request's forward outcome: the delivery's, or the client's own wait. */
function outcomeOf(r: RequestRecord): ForwardOutcome | null {
  if (r.forward !== undefined && r.forward !== null) return r.forward;
  return r.result.origin === null ? null : { origin: r.result.origin, attempts: 1, final: true };
}

/**
 * The events of one request: decision, the rate-limit steps and the CAPTCHA check that led
 * to it, then forward or challenge.
 */
function requestEvents(r: RequestRecord, facts: Facts, outcome: ForwardOutcome | null): AuditInput[] {
  const ids = { request_id: r.requestId, decision_id: r.decision.id, at: r.ctx.now } as const;
  const provider = r.captchaProvider ?? null;
  const events: AuditInput[] = [{ type: "decision", ...ids, data: decisionData(r, facts) }];
  for (const data of rateLimitStepData(r.ladders ?? [])) events.push({ type: "ratelimit.step", ...ids, data });
  const solved = challengeSolvedData(r.captcha, provider);
  if (solved !== null) events.push({ type: "challenge.solved", ...ids, data: solved });
  if (outcome?.final === true) events.push({ type: "forward", ...ids, data: forwardData(r.originUrl, r.ctx.route.respond, outcome) });
  if (r.result.action === "challenge") {
    events.push({ type: "challenge.issued", ...ids, data: { kind: "captcha", provider } });
  }
  return events;
}

/**
 * The decision log line (replay's input) for a request, naming its audit event and the
 * `forward` event stamped with it (that event's log record: the log sink skips it).
 */
function decisionLogLine(r: RequestRecord, facts: Facts, outcome: ForwardOutcome | null, event: AuditEvent, forward: AuditEvent | undefined): DecisionLogLine {
  const { ctx, decision, result } = r;
  const origin = outcome?.origin ?? null;
  const failed = origin !== null && !originAccepted(origin);
  return {
    type: "riskgate.decision",
    // The decision event's timestamp: the same instant (ctx.now), already formatted.
    ts: event.ts,
    id: decision.id,
    route: ctx.route.path,
    verdict: decision.verdict,
    tier: decision.tier,
    score: decision.score,
    channel: decision.channel,
    experiment: decision.experiment ?? null,
    reasons: decision.reasons,
    shadow_reasons: r.shadowReasons,
    mode: decision.mode,
    errors: failed ? [...decision.errors, { dependency: "origin", code: originError(origin), failMode: "allow" }] : decision.errors,
    rules: decision.rulesetVersion,
    account: ctx.accountKey,
    account_counted: ctx.keys.account,
    ip: ctx.keys.ip,
    action: result.action,
    origin_status: origin?.ok ? origin.response.status : null,
    origin_ms: origin?.ms ?? null,
    ms: r.ms,
    facts,
    candidate: r.candidate,
    ...(r.rateLimits === undefined ? {} : { rate_limits: r.rateLimits }),
    ...(r.captcha === undefined ? {} : { captcha: r.captcha }),
    event: { id: event.id, source: event.source, seq: event.seq },
    ...(forward?.type === "forward" ? { forward: { id: forward.id, seq: forward.seq, data: forward.data } } : {}),
  };
}

/**
 * Record one request after its response: number its events, write the decision log
 * line (with the ids and sequence numbers of the decision event and of the `forward`
 * event stamped with it), then deliver the events. The log sink writes no line for a
 * `forward` delivered in the same batch as its decision (src/audit/sinks/log.ts): this
 * line is its record, so an allowed reset costs one log line.
 */
export async function recordRequest(deps: { audit: Auditor; log: LogSink }, request: RequestRecord): Promise<void> {
  // The line and the decision event carry the non-zero facts only: the rules read a
  // missing fact as zero, so replay and explain are unchanged and the record is smaller.
  const facts = nonZeroFacts(request.facts);
  const outcome = outcomeOf(request);
  const events = deps.audit.stamp(...requestEvents(request, facts, outcome));
  const decisionEvent = events[0];
  const forwardEvent = outcome?.final === true ? events.find((e) => e.type === "forward") : undefined;
  if (decisionEvent !== undefined) deps.log(decisionLogLine(request, facts, outcome, decisionEvent, forwardEvent));
  await deps.audit.deliver(events);
}

const RAY = /^[A-Za-z0-9-]{1,64}$/;

/** The platform's request id (`cf-ray`) when it looks like one, else a fresh id. */
export function requestIdFrom(headers: Headers, newId: () => string): string {
  const ray = headers.get("cf-ray");
  return ray !== null && RAY.test(ray) ? ray : newId();
}
