/**
 * `rules explain` and `rules replay`: see why one request scored as it did, and what a
 * candidate would change on recorded traffic.
 */
import { access, readFile } from "node:fs/promises";
import type { Loaded } from "./commands.ts";
import { comparedWithRecorded, explain, formatExplanation, inputFrom } from "./explain.ts";
import { recordedFrom } from "./recorded.ts";
import { EXIT, type Io, UsageError } from "./io.ts";
import { type OutcomeIndex, type ReplayReport, readOutcomes, replay } from "./replay.ts";
import { formatReplay, replayJson } from "./replay-report.ts";

/** `rules explain <request.json>`. */
export async function explainCommand(io: Io, path: string, live: Loaded, candidate: Loaded | null, json: boolean): Promise<number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let input: ReturnType<typeof inputFrom>;
  let recorded: ReturnType<typeof recordedFrom>;
  try {
    input = inputFrom(parsed);
    recorded = recordedFrom(parsed);
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`);
  }
  const a = explain(live.ruleset, input, recorded);
  const b = candidate === null ? null : explain(candidate.ruleset, input, recorded);
  const compared = comparedWithRecorded(a);
  if (json) {
    io.out(`${JSON.stringify({ live: a, candidate: b, recorded: compared === null ? null : { verdict: recorded.verdict, tier: recorded.tier, agrees: compared.agrees } })}\n`);
    return EXIT.OK;
  }
  io.out(formatExplanation(a, "live"));
  if (compared !== null) io.out(`${compared.text}\n`);
  if (b !== null) {
    io.out(`\n${formatExplanation(b, "candidate")}`);
    const same = a.final.verdict === b.final.verdict && a.outcome.tier === b.outcome.tier;
    io.out(same ? "\ncandidate: same verdict and tier\n" : `\ncandidate changes ${a.final.verdict}/${a.outcome.tier} → ${b.final.verdict}/${b.outcome.tier}\n`);
  }
  return EXIT.OK;
}

/** Options of `rules replay`. */
export interface ReplayCommandOptions {
  readonly samples: number;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly failOnChange: boolean;
  readonly progressEvery: number;
  /** A file of `riskgate.outcome` lines to join by decision id. */
  readonly outcomes?: string | undefined;
}

const PEAK_RSS = () => `${Math.round(process.resourceUsage().maxRSS / 1024)} MiB peak RSS`;

/** `rules replay <decisions.jsonl> --candidate <dir>`. */
export async function replayCommand(io: Io, path: string, live: Loaded, candidate: Loaded, opts: ReplayCommandOptions): Promise<number> {
  if (path !== "-") {
    try {
      await access(path);
    } catch {
      throw new UsageError(`cannot read ${path}`);
    }
  }
  let outcomes: OutcomeIndex | undefined;
  if (opts.outcomes !== undefined) {
    if (opts.outcomes === "-" && path === "-") throw new UsageError("--outcomes and the decisions cannot both be stdin");
    try {
      if (opts.outcomes !== "-") await access(opts.outcomes);
    } catch {
      throw new UsageError(`cannot read ${opts.outcomes}`);
    }
    const read = await readOutcomes(io.lines(opts.outcomes));
    outcomes = read.index;
    if (!opts.quiet) io.err(`replay: ${read.outcomes.toLocaleString("en-US")} outcome lines in ${opts.outcomes}, ${read.index.size.toLocaleString("en-US")} decisions with fraud_reported or completed\n`);
  }
  const started = performance.now();
  const secs = () => ((performance.now() - started) / 1000).toFixed(1);
  const progress = (r: ReplayReport) =>
    io.err(`replay: ${r.lines.toLocaleString("en-US")} lines, ${r.verdictChanged.toLocaleString("en-US")} verdicts changed (${secs()} s, ${PEAK_RSS()})\n`);
  const report = await replay(io.lines(path), live.ruleset, candidate.ruleset, {
    samples: opts.samples,
    progressEvery: opts.progressEvery,
    ...(opts.quiet ? {} : { onProgress: progress }),
    ...(outcomes === undefined ? {} : { outcomes }),
  });
  if (!opts.quiet) io.err(`replay: done, ${report.lines.toLocaleString("en-US")} lines in ${secs()} s, ${PEAK_RSS()}\n`);
  io.out(opts.json ? `${JSON.stringify(replayJson(report))}\n` : formatReplay(report, path === "-" ? "stdin" : path));
  if (opts.failOnChange && (report.verdictChanged > 0 || report.tierChanged > 0)) {
    io.err(`replay: ${report.verdictChanged} verdict(s) and ${report.tierChanged} tier(s) change (--fail-on-change)\n`);
    return EXIT.FAILED;
  }
  return EXIT.OK;
}
