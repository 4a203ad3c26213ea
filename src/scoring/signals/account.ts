/**
 * Account history signal: what confirmed outcomes (POST /v1/outcomes) taught about the
 * account. History never learns from unconfirmed requests, or attackers could teach it.
 * The origin's privileged tag arrives the same way (a signed outcome), never from the
 * request: a header or body field would come from the client.
 */
import type { AccountHistory, RosterAnswer } from "../../store/port.ts";

/**
 * The account roster's word on the address (POST /v1/accounts, docs/accounts.md):
 * `listed` or `absent` only while the origin's roster is loaded; `off` before that (or
 * after the origin turned it off); `unanswered` when the store did not answer. Only
 * `absent` says the account does not exist: every other value means "do not know".
 */
export type RosterFact = RosterAnswer | "unanswered";

/** Facts exposed to rules under `account.*`. */
export interface AccountFacts {
  /** A verified reset is on record (the privileged tag alone is not history). */
  readonly has_history: boolean;
  /** Tagged privileged by the origin; the rule file's list is added in `isPrivileged`. */
  readonly privileged: boolean;
  readonly known_devices: number;
  readonly known_countries: number;
  /** Hours since the last verified reset; -1.0 when there was none. */
  readonly hours_since_verified: number;
  readonly roster: RosterFact;
}

/** Account facts from the stored history (null: none, or the store failed). */
export function accountFacts(history: AccountHistory | null, now: number, roster: RosterFact = "off"): AccountFacts {
  const last = history?.lastVerified ?? null;
  const learned = history !== null && (history.devices.length + history.countries.length + history.asns.length > 0 || last !== null);
  return {
    has_history: learned,
    privileged: history?.privileged === true,
    known_devices: history?.devices.length ?? 0,
    known_countries: history?.countries.length ?? 0,
    hours_since_verified: last === null ? -1 : Math.max(0, now - last.at) / 3_600_000,
    roster,
  };
}
