/**
 * The CLI's narrow view of the process: output streams, line input and exit codes.
 * Tests pass their own to capture output instead of patching globals.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** Exit codes fit for scripts and CI. */
export const EXIT = {
  OK: 0,
  /** The rules, the tests or the backtest gate failed. */
  FAILED: 1,
  /** Bad usage: unknown command or flag, unreadable input. */
  USAGE: 2,
} as const;

/** Where the CLI reads and writes. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Lines of a file, or of stdin for `-`; streamed, never read whole. */
  lines(path: string): AsyncIterable<string>;
  env(name: string): string | undefined;
}

/** The real process. */
export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  lines: (path) =>
    createInterface({
      input: path === "-" ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 }),
      crlfDelay: Number.POSITIVE_INFINITY,
    }),
  env: (name) => process.env[name],
};

/** A usage error: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
