/**
 * Completion rates from outcomes, the signal SMS-verification providers use against toll
 * fraud (SMS pumping): real people type the code they were sent, pumping never does.
 * Reference: docs/outcomes.md ("Completion rates").
 *
 * Storage: two distinct sets per request country and per request ASN over a sliding
 * window, members being hashed decision ids: `sent` (the origin reported an SMS or voice
 * send) and `done` (the origin reported that decision verified or completed). Outcomes add
 * to them (src/outcomes/); a reset request reads them *in its one store batch* by adding
 * a fixed probe member, which the counts below subtract again. Sets make a repeated
 * report count once; the window keeps them bounded (sends are bounded by the SMS budget).
 *
 * Pure: no I/O.
 */
import type { DistinctAdd } from "../../store/port.ts";

/** The sliding window of the rates (the SMS budget's order of magnitude). */
export const COMPLETION_WINDOW_MS = 3_600_000;

/** Channels whose sends and completions are counted: the ones pumping bills. */
export const PUMPABLE_CHANNELS: ReadonlySet<string> = new Set(["sms_otp", "voice_otp"]);

/** The probe member a reset request adds to read a set; never an HMAC (those are 22 chars). */
export const PROBE_MEMBER = "probe";

/** Store keys of one scope's sets. */
export function completionKeys(scope: "cc" | "asn", value: string | number): { sent: string; done: string } {
  return { sent: `completion:sent:${scope}:${value}`, done: `completion:done:${scope}:${value}` };
}

/** Facts exposed to rules under `completion.*`. */
export interface CompletionFacts {
  /** SMS/voice sends reported for requests from this country in the window. */
  readonly country_sent: number;
  /** Of decisions from this country, those reported verified or completed after an SMS/voice send. */
  readonly country_completed: number;
  /** completed / sent, capped at 1; 1.0 with no sends (no evidence is no collapse). */
  readonly country_rate: number;
  readonly asn_sent: number;
  readonly asn_completed: number;
  readonly asn_rate: number;
}

/** What a reset request adds to its batch, in order: country sent, done; ASN sent, done. */
export interface CompletionPlan {
  readonly distinct: readonly DistinctAdd[];
  readonly country: boolean;
  readonly asn: boolean;
}

/** The probe reads for a request from `country` ("" unknown) on `asn` (0 unknown). */
export function planCompletion(country: string, asn: number): CompletionPlan {
  const distinct: DistinctAdd[] = [];
  const probe = (key: string) => distinct.push({ key, member: PROBE_MEMBER, windowMs: COMPLETION_WINDOW_MS });
  if (country !== "") {
    const k = completionKeys("cc", country);
    probe(k.sent);
    probe(k.done);
  }
  if (asn > 0) {
    const k = completionKeys("asn", asn);
    probe(k.sent);
    probe(k.done);
  }
  return { distinct, country: country !== "", asn: asn > 0 };
}

const rate = (sent: number, done: number) => (sent === 0 ? 1 : Math.min(1, done / sent));
/** A probed count back to the real one (the probe is always a member once added). */
const real = (n: number | undefined) => Math.max(0, (n ?? 1) - 1);

/** Facts from the probed counts (`counts` aligned with `plan.distinct`; empty when the store failed). */
export function completionFacts(plan: CompletionPlan, counts: readonly number[]): CompletionFacts {
  let i = 0;
  const next = (): [number, number] => {
    const sent = real(counts[i]);
    const done = real(counts[i + 1]);
    i += 2;
    return [sent, done];
  };
  const [cs, cd] = plan.country ? next() : [0, 0];
  const [as, ad] = plan.asn ? next() : [0, 0];
  return {
    country_sent: cs,
    country_completed: cd,
    country_rate: rate(cs, cd),
    asn_sent: as,
    asn_completed: ad,
    asn_rate: rate(as, ad),
  };
}

/** What an outcome adds (none when it says nothing about an SMS or voice code). */
export interface CompletionOutcome {
  readonly event: string;
  /** The channel the origin reported using, else the one the decision named. */
  readonly channel: string | null;
  /** The request's country and ASN as the decision saw them. */
  readonly country: string | null;
  readonly asn: number | null;
  /** Hashed decision id: the set member. */
  readonly decisionKey: string;
}

/** The set additions for one outcome. */
export function completionAdds(outcome: CompletionOutcome): DistinctAdd[] {
  if (outcome.channel === null || !PUMPABLE_CHANNELS.has(outcome.channel)) return [];
  const which = outcome.event === "sent" ? "sent" : outcome.event === "verified" || outcome.event === "completed" ? "done" : null;
  if (which === null) return [];
  const adds: DistinctAdd[] = [];
  const add = (key: string) => adds.push({ key, member: outcome.decisionKey, windowMs: COMPLETION_WINDOW_MS });
  if (outcome.country !== null && outcome.country !== "") add(completionKeys("cc", outcome.country)[which]);
  if (outcome.asn !== null && outcome.asn > 0) add(completionKeys("asn", outcome.asn)[which]);
  return adds;
}
