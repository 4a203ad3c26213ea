/**
 * Experiment tallies as both adapters store them: one integer counter per
 * (arm, counter) for the total and per (arm, counter, UTC day) for the time series,
 * in one hash (Redis) or table (Durable Object) per experiment.
 * Amounts are integers so that both adapters add exactly (money in micro-units).
 */
import { TALLY_NAME, type TallyRow, type TallyUpdate } from "./port.ts";

const DAY_MS = 86_400_000;

/** Throws RangeError on a name outside the alphabet. */
export function checkTallyName(name: string): void {
  if (!TALLY_NAME.test(name)) throw new RangeError(`tally names must match ${TALLY_NAME}: ${JSON.stringify(name)}`);
}

/** Throws RangeError on names outside the alphabet or non-integer amounts. */
export function checkTally(update: TallyUpdate): void {
  for (const name of [update.experiment, update.arm, ...Object.keys(update.add)]) checkTallyName(name);
  for (const amount of Object.values(update.add)) {
    if (!Number.isSafeInteger(amount)) throw new RangeError("tally amounts must be integers (use micro-units for money)");
  }
}

/** The fields an update adds to: total and day bucket for each counter. */
export function tallyFields(update: TallyUpdate): Array<readonly [string, number]> {
  const day = Math.floor(update.now / DAY_MS);
  return Object.entries(update.add).flatMap(([counter, amount]) => [
    [`${update.arm}|${counter}`, amount] as const,
    [`${update.arm}|${counter}|${day}`, amount] as const,
  ]);
}

/** A stored field back to its parts; null for a field this code did not write. */
export function parseTallyField(field: string): Omit<TallyRow, "value"> | null {
  const parts = field.split("|");
  const [arm, counter, day] = parts;
  if (arm === undefined || counter === undefined || parts.length > 3) return null;
  if (day === undefined) return { arm, counter, day: null };
  const n = Number(day);
  return Number.isSafeInteger(n) ? { arm, counter, day: n } : null;
}

/** Rows in a stable order: arm, counter, totals first, then days ascending. */
export function sortTallies(rows: TallyRow[]): TallyRow[] {
  return rows.sort(
    (a, b) =>
      a.arm.localeCompare(b.arm) ||
      a.counter.localeCompare(b.counter) ||
      (a.day ?? -1) - (b.day ?? -1),
  );
}
