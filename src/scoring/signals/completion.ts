/**
 * Completion rates from outcomes, the signal SMS-verification providers use against toll
 * fraud (SMS pumping): real people type the code they were sent, pumping never does.
 * Reference: docs/outcomes.md ("Completion rates").
 *
 * The same rates over every channel (`*_any_*`) say whether resets from a network are
 * being finished at all: real people finish most of the resets they ask for; a campaign
 * (pumping on its own accounts, requests for other people's accounts) finishes none.
 *
 * Storage: four distinct sets per request country and per request ASN, and one for the
 * whole site (finished resets: does the origin report completions at all?), over a sliding
 * window, members being hashed decision ids: `sent` (the origin reported an SMS or voice
 * send), `done` (that decision verified or completed), and `any-sent` / `any-done` (the
 * same on any channel). Outcomes add to them (src/outcomes/); a reset request reads them
 * *in its one store batch* by adding a fixed probe member, which the counts below
 * subtract again. Sets make a repeated report count once; the window keeps them bounded:
 * SMS sends by the SMS budget, the any-channel sets by one member (a 22-character
 * hash) per reset the origin sent in the hour, per scope (docs/outcomes.md).
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

/** Store keys of one scope's sets: SMS/voice (`sent`, `done`) and any channel (`anySent`, `anyDone`). */
export function completionKeys(scope: "cc" | "asn", value: string | number): { sent: string; done: string; anySent: string; anyDone: string } {
  return {
    sent: `completion:sent:${scope}:${value}`,
    done: `completion:done:${scope}:${value}`,
    anySent: `completion:any-sent:${scope}:${value}`,
    anyDone: `completion:any-done:${scope}:${value}`,
  };
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
  /** Resets the origin sent (any channel) for requests from this country in the window. */
  readonly country_any_sent: number;
  /** Of those, the ones reported verified or completed. */
  readonly country_any_completed: number;
  /** completed / sent over any channel, capped at 1; 1.0 with no sends. */
  readonly country_any_rate: number;
  readonly asn_any_sent: number;
  readonly asn_any_completed: number;
  readonly asn_any_rate: number;
  /** Resets reported verified or completed across the whole site in the window (any channel): 0 when the origin reports no completions. */
  readonly site_any_completed: number;
  /** Resets the origin reported sent across the whole site in the window (any channel). */
  readonly site_any_sent: number;
  /**
   * How unlikely this country's finished resets are if its people finished them as the rest
   * of the site does: −log10 of the binomial tail P(X ≤ completed | sent, the rest of the
   * site's rate), 0 when the country's rate is not below the rest's or there is too little
   * to compare with (surprise()). 3 means a one-in-a-thousand shortfall.
   */
  readonly country_any_surprise: number;
  /** The same for the request's network (ASN). */
  readonly asn_any_surprise: number;
}

/**
 * The site-wide set of finished resets (any channel): it says whether the origin reports
 * completions at all. An origin that reports only sends would otherwise make every network
 * read as a campaign once it had enough sends.
 */
export const SITE_DONE_KEY = "completion:any-done:site";

/** The site-wide set of resets sent (any channel): the rate a country or network is compared with. */
export const SITE_SENT_KEY = "completion:any-sent:site";

/** What a reset request adds to its batch, in order: country sent, done, any-sent, any-done; the same for the ASN; then the site's any-done and any-sent. */
export interface CompletionPlan {
  readonly distinct: readonly DistinctAdd[];
  readonly country: boolean;
  readonly asn: boolean;
}

/** The probe reads for a request from `country` ("" unknown) on `asn` (0 unknown). */
export function planCompletion(country: string, asn: number): CompletionPlan {
  const distinct: DistinctAdd[] = [];
  const probe = (key: string) => distinct.push({ key, member: PROBE_MEMBER, windowMs: COMPLETION_WINDOW_MS });
  const probeAll = (k: ReturnType<typeof completionKeys>) => {
    probe(k.sent);
    probe(k.done);
    probe(k.anySent);
    probe(k.anyDone);
  };
  if (country !== "") probeAll(completionKeys("cc", country));
  if (asn > 0) probeAll(completionKeys("asn", asn));
  probe(SITE_DONE_KEY);
  probe(SITE_SENT_KEY);
  return { distinct, country: country !== "", asn: asn > 0 };
}

const rate = (sent: number, done: number) => (sent === 0 ? 1 : Math.min(1, done / sent));
/** A probed count back to the real one (the probe is always a member once added). */
const real = (n: number | undefined) => Math.max(0, (n ?? 1) - 1);

/** Facts from the probed counts (`counts` aligned with `plan.distinct`; empty when the store failed). */
export function completionFacts(plan: CompletionPlan, counts: readonly number[]): CompletionFacts {
  let i = 0;
  const next = (): [number, number, number, number] => {
    const got: [number, number, number, number] = [real(counts[i]), real(counts[i + 1]), real(counts[i + 2]), real(counts[i + 3])];
    i += 4;
    return got;
  };
  const none: [number, number, number, number] = [0, 0, 0, 0];
  const [cs, cd, cas, cad] = plan.country ? next() : none;
  const [as, ad, aas, aad] = plan.asn ? next() : none;
  const siteDone = real(counts[i]);
  const siteSent = real(counts[i + 1]);
  return {
    country_sent: cs,
    country_completed: cd,
    country_rate: rate(cs, cd),
    asn_sent: as,
    asn_completed: ad,
    asn_rate: rate(as, ad),
    country_any_sent: cas,
    country_any_completed: cad,
    country_any_rate: rate(cas, cad),
    asn_any_sent: aas,
    asn_any_completed: aad,
    asn_any_rate: rate(aas, aad),
    site_any_completed: siteDone,
    site_any_sent: siteSent,
    country_any_surprise: surprise(cas, cad, siteSent, siteDone),
    asn_any_surprise: surprise(aas, aad, siteSent, siteDone),
  };
}

/** Fewest sends elsewhere on the site for a rate to compare with. */
export const SURPRISE_MIN_REST = 20;
/** The largest surprise reported (a tail below 1e-30 is "never" for any rule). */
export const SURPRISE_MAX = 30;

/**
 * −log10 P(X ≤ done) for X ~ Binomial(sent, p), p the finish rate of the rest of the site
 * (its sends and finishes minus this scope's): how unlikely so few finished resets are if
 * this scope's people behaved like everyone else's. Why a test rather than a fixed floor
 * of sends: a campaign in a country with little real traffic shows itself after a handful
 * of sends none of which is finished (8 at a rest rate of 0.6 reach 3), while a big
 * network's ordinary dip never does; the level is a stated false-alarm rate, not a count.
 * 0 when this scope finishes at least as often as the rest, when the rest has fewer than
 * SURPRISE_MIN_REST sends, or when nothing was sent. The rest's rate is capped at 0.95:
 * finishes without a reported send (an origin that reports only completions for some
 * resets) must not make any shortfall look impossible.
 */
export function surprise(sent: number, done: number, siteSent: number, siteDone: number): number {
  const restSent = siteSent - sent;
  if (sent <= 0 || restSent < SURPRISE_MIN_REST) return 0;
  const p = Math.min(0.95, Math.max(0, siteDone - done) / restSent);
  const k = Math.min(done, sent);
  if (p <= 0 || k / sent >= p) return 0;
  // log P(X = i) from i = 0 upwards, summed in log space (a big network's terms underflow).
  const logQ = Math.log1p(-p);
  const step = Math.log(p) - logQ;
  let term = sent * logQ;
  let total = term;
  for (let i = 0; i < k; i++) {
    term += Math.log((sent - i) / (i + 1)) + step;
    total = total > term ? total + Math.log1p(Math.exp(term - total)) : term + Math.log1p(Math.exp(total - term));
  }
  return Math.min(SURPRISE_MAX, Math.max(0, -total / Math.LN10));
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

/** The set additions for one outcome: the any-channel sets always, the SMS/voice ones for those channels. */
export function completionAdds(outcome: CompletionOutcome): DistinctAdd[] {
  const sent = outcome.event === "sent";
  if (!sent && outcome.event !== "verified" && outcome.event !== "completed") return [];
  const pumpable = outcome.channel !== null && PUMPABLE_CHANNELS.has(outcome.channel);
  const adds: DistinctAdd[] = [];
  const addTo = (k: ReturnType<typeof completionKeys>) => {
    const add = (key: string) => adds.push({ key, member: outcome.decisionKey, windowMs: COMPLETION_WINDOW_MS });
    if (pumpable) add(sent ? k.sent : k.done);
    add(sent ? k.anySent : k.anyDone);
  };
  if (outcome.country !== null && outcome.country !== "") addTo(completionKeys("cc", outcome.country));
  if (outcome.asn !== null && outcome.asn > 0) addTo(completionKeys("asn", outcome.asn));
  adds.push({ key: sent ? SITE_SENT_KEY : SITE_DONE_KEY, member: outcome.decisionKey, windowMs: COMPLETION_WINDOW_MS });
  return adds;
}
