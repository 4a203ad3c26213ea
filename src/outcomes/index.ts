/**
 * POST /v1/outcomes: the origin reports what became of a reset it received (sent,
 * verified, completed, abandoned, fraud_reported). Only verified and completed outcomes
 * teach the account's history (known devices, countries, ASNs, last verified location),
 * so nothing an unauthenticated client does can teach it. Reports are idempotent: the
 * same event id changes history once, however often the origin retries.
 */
import { readCapped } from "../context/reset-body.ts";
import { RiskgateError } from "../errors.ts";
import type { Gateway } from "../gateway.ts";
import { historyKey } from "../signals/index.ts";
import { StoreError } from "../store/port.ts";
import { LEARNING_EVENTS, verifyOutcome } from "./verify.ts";

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
  if (learned) {
    const { seen } = outcome;
    try {
      await gateway.store.recordHistory({
        historyKey: historyKey(outcome.account),
        device: seen.dev,
        country: seen.cc ?? null,
        asn: seen.asn ?? null,
        location: seen.loc === undefined ? null : { lat: seen.loc[0], lon: seen.loc[1] },
        at: outcome.decidedAt,
        eventId: await gateway.hasher.hash("outcome", outcome.eventId),
      });
    } catch (err) {
      // Fail closed and say so: nothing was learned, the origin retries (idempotently).
      const code = err instanceof StoreError ? err.code : "STORE_UNAVAILABLE";
      throw new RiskgateError("ERR_STORE_UNAVAILABLE", `history not updated (${code}); retry`, { "retry-after": "5" });
    }
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
        }),
      ),
    ),
  );
  return Response.json(
    { status: "accepted", decision: outcome.decisionId, event: outcome.event, learned },
    { status: 200, headers: { "cache-control": "no-store" } },
  );
}
