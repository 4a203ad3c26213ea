/**
 * Segment builders for range tables at build time: append ranges in address order,
 * fill gaps with "no value", merge neighbours with equal values, and truncate IPv6 to
 * the table's key width (/64 for geo: one subscriber, and half the size).
 */
import type { KeyWords } from "../../shared/range-table.ts";

/** Sorted segments being built for one table. */
export class SegmentBuilder {
  readonly starts: bigint[] = [];
  readonly values: number[] = [];
  private next = 0n;
  private readonly shift: bigint;

  /** `bits` is the address width (32 or 128); keys keep the top `words` * 32 bits. */
  constructor(
    readonly words: KeyWords,
    bits: number,
  ) {
    this.shift = BigInt(bits - words * 32);
  }

  /** Add the inclusive range [start, end] (full-width integers) with `value` (0 = none). */
  add(start: bigint, end: bigint, value: number): void {
    const s = start >> this.shift;
    const e = end >> this.shift;
    if (e < this.next) return; // wholly inside the last key-sized block: the earlier range won
    let from = s; // bigint: Math.max does not apply
    if (from < this.next) from = this.next;
    if (from > this.next && this.starts.length > 0) this.push(this.next, 0);
    this.push(from, value);
    this.next = e + 1n;
  }

  private push(at: bigint, value: number): void {
    const last = this.values.length - 1;
    if (last >= 0 && this.values[last] === value) return;
    if (last < 0 && value === 0) return;
    if (last >= 0 && this.starts[last] === at) {
      this.values[last] = value;
      return;
    }
    this.starts.push(at);
    this.values.push(value);
  }
}
