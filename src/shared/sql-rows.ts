/**
 * Multi-row statements for SQLite Durable Objects: one statement for many rows instead of
 * one per row, since each `sql.exec` has a fixed cost (BENCHMARKS.md, "The audit hub's
 * ingest"). A Durable Object statement binds at most 100 values.
 */

/** Most values one statement may bind (Cloudflare's limit for SQLite Durable Objects). */
export const MAX_BOUND_VALUES = 100;

const texts = new Map<string, string>();

/**
 * `(?, ?), (?, ?)` for `rows` rows of `columns` values, built once per shape: a batch's
 * statements have few distinct texts, and workerd caches prepared statements by text.
 */
export function rowsOf(rows: number, columns: number): string {
  if (rows < 1 || rows * columns > MAX_BOUND_VALUES) throw new RangeError(`${rows} rows of ${columns} values do not fit one statement`);
  const key = `${rows}x${columns}`;
  let text = texts.get(key);
  if (text === undefined) {
    const row = `(${new Array<string>(columns).fill("?").join(", ")})`;
    text = new Array<string>(rows).fill(row).join(", ");
    texts.set(key, text);
  }
  return text;
}
