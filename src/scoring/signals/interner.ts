/**
 * Interning for the compiled data tables (reputation lists, local geo): each distinct value
 * is stored once and referred to by its index.
 */
export class Interner<T> {
  /** The values, in the order they were first added; an index refers into this. */
  readonly values: T[] = [];
  private readonly index = new Map<string, number>();

  /** The index of the value whose identity is `key`, adding `value` the first time. */
  add(key: string, value: T): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(key, i);
    }
    return i;
  }
}
