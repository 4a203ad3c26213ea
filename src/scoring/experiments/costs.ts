/**
 * The cost table (rule files, `channels.<name>.cost`): what one send costs, per channel
 * and, for channels priced by destination (SMS, voice), per destination country.
 * Tallies keep money as integer micro-units so both store adapters add it exactly.
 */
import type { RulesetSpec } from "../rules/schema.ts";

/** Micro-units per currency unit. */
export const MICROS = 1_000_000;

/** A currency amount as integer micro-units. */
export function toMicros(amount: number): number {
  return Math.round(amount * MICROS);
}

/**
 * The cost of one send on `channel` to `country` (ISO alpha-2, or null when unknown),
 * in micro-units: the country's figure, else the channel's default; 0 for a channel
 * without a cost (e.g. an authenticator app), null for an undeclared channel.
 */
export function sendCostMicros(spec: Pick<RulesetSpec, "channels">, channel: string, country: string | null): number | null {
  const declared = spec.channels[channel];
  if (declared === undefined) return null;
  const cost = declared.cost;
  if (cost === undefined) return 0;
  if (typeof cost === "number") return toMicros(cost);
  const perCountry = country === null ? undefined : cost.per_country[country];
  return toMicros(perCountry ?? cost.default);
}
