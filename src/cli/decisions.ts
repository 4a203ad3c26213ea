/**
 * `riskgate decisions export`: a running gateway's recent decisions as decision log lines
 * (`"type":"riskgate.decision"`, what `rules replay` reads), each followed by its
 * outcomes as `riskgate.outcome` lines (what `rules replay --outcomes` joins). Read page
 * by page from the admin API (`GET /__riskgate/api/decisions/export`), which rebuilds
 * them from the audit hub's events (kept 24 hours); identifiers stay the HMACs the
 * events carry. The gateway is reached as `experiments report` reaches it.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { durationMs } from "../scoring/rules/duration.ts";
import { DEV_ADMIN_TOKEN, defaultGatewayUrl, isLoopback } from "./experiments.ts";
import { ExportError, exportedLines } from "./decisions-source.ts";
import { EXIT, type Io, UsageError } from "./io.ts";

export const DECISIONS_USAGE = `  decisions export [--since 24h|<iso time>] [--limit N] [--out decisions.jsonl] [--url u]
                                                  the running gateway's decisions (audit hub, last 24 h) as
                                                  decision log lines with their outcomes, for rules replay
                                                  (--outcomes the same file) and rules explain
`;

/** Flags of `decisions export`. */
export interface DecisionsFlags {
  readonly url?: string | undefined;
  readonly since?: string | undefined;
  readonly limit?: string | undefined;
  readonly out?: string | undefined;
}

/** `--since`: a duration back from `now` (`2h`, `30m`), or an ISO time. */
export function sinceMs(text: string | undefined, now: number): number {
  if (text === undefined) return 0;
  if (/^\d+(ms|s|m|h|d)$/.test(text)) return now - durationMs(text);
  const ms = Date.parse(text);
  if (!/^\d{4}-\d\d-\d\d/.test(text) || !Number.isFinite(ms)) throw new UsageError(`--since must be a duration such as 2h or an ISO time, not ${JSON.stringify(text)}`);
  return ms;
}

function writeTo(stream: WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.write(text)) resolve();
    else {
      stream.once("drain", resolve);
      stream.once("error", reject);
    }
  });
}

/** `decisions export`. */
export async function decisionsCommand(io: Io, command: string | undefined, flags: DecisionsFlags): Promise<number> {
  if (command !== "export") throw new UsageError(`unknown command "decisions${command === undefined ? "" : ` ${command}`}" (decisions export)`);
  const limit = flags.limit === undefined ? Number.POSITIVE_INFINITY : Number(flags.limit);
  if (flags.limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError("--limit must be a whole number above 0");
  const since = sinceMs(flags.since, Date.now());
  const base = flags.url ?? defaultGatewayUrl((name) => io.env(name));
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`not a URL: ${base}`);
  }
  // A production gateway refuses the development token, so it is only a default locally.
  const token = io.env("RISKGATE_ADMIN_TOKEN") || (isLoopback(url) ? DEV_ADMIN_TOKEN : "");
  if (token === "") throw new UsageError("set RISKGATE_ADMIN_TOKEN to the gateway's admin token");
  const stream = flags.out === undefined ? null : createWriteStream(flags.out);
  let decisions = 0;
  let outcomes = 0;
  try {
    for await (const line of exportedLines({ base, token, fetch: (u, init) => fetch(u, init) }, since, limit)) {
      if (line.decision) decisions++;
      else outcomes++;
      if (stream === null) io.out(`${line.text}\n`);
      else await writeTo(stream, `${line.text}\n`);
    }
  } catch (err) {
    if (!(err instanceof ExportError)) throw err;
    io.err(`riskgate: ${err.message}\n`);
    return EXIT.FAILED;
  } finally {
    if (stream !== null) await new Promise<void>((resolve) => stream.end(resolve));
  }
  io.err(`exported ${decisions.toLocaleString("en-US")} decisions and ${outcomes.toLocaleString("en-US")} outcomes${flags.out === undefined ? "" : ` to ${flags.out}`}\n`);
  return EXIT.OK;
}
