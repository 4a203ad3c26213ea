/**
 * `riskgate rules replay <decisions.jsonl> --candidate <dir>`: a backtest. Every
 * recorded decision's facts are decided again by the live rules and by the candidate;
 * the report counts changed verdicts and tiers, per rule, with sample diffs.
 *
 * Streams: lines are consumed one at a time and only counters and a bounded number of
 * samples are kept, so memory stays flat however long the log is.
 */
import type { Outcome } from "../scoring/verdict.ts";
import { outcomeFor } from "../scoring/verdict.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import { inputFrom } from "./explain.ts";

/** Per-rule counts over the replayed decisions. */
export interface RuleStat {
  readonly id: string;
  /** Decisions where the rule (or override) matched under the live rules. */
  live: number;
  candidate: number;
  /** Decisions where it matched only under the candidate / only under live. */
  gained: number;
  lost: number;
  /** Decisions whose verdict or tier changed and this rule's match or weight differs. */
  changed: number;
}

/** The two sides of one changed decision. */
export interface Sample {
  readonly line: number;
  readonly id: string | null;
  readonly live: Side;
  readonly candidate: Side;
  readonly rules: readonly string[];
}

/** One side of a sample. */
export interface Side {
  readonly verdict: string;
  readonly tier: string;
  readonly score: number;
  readonly reasons: readonly string[];
}

/** The backtest result. */
export interface ReplayReport {
  readonly liveVersion: string;
  readonly candidateVersion: string;
  lines: number;
  decisions: number;
  /** JSON lines that are not decisions (other log types), or decisions recorded without facts. */
  skipped: number;
  noFacts: number;
  malformed: number;
  readonly malformedLines: number[];
  verdictChanged: number;
  tierChanged: number;
  /** Decisions where the live rules disagree with what was recorded (log from other rules, or fail modes). */
  recordedDiffers: number;
  readonly verdictMoves: Record<string, number>;
  readonly tierMoves: Record<string, number>;
  readonly rules: Map<string, RuleStat>;
  readonly samples: Sample[];
}

/** Replay options. */
export interface ReplayOptions {
  readonly samples: number;
  readonly progressEvery: number;
  readonly onProgress?: (report: ReplayReport) => void;
}

const ruleIdCache = new WeakMap<CompiledRuleset, ReadonlySet<string>>();

function ruleIds(ruleset: CompiledRuleset): ReadonlySet<string> {
  let ids = ruleIdCache.get(ruleset);
  if (ids === undefined) {
    ids = new Set(ruleset.rules.map((r) => r.id));
    ruleIdCache.set(ruleset, ids);
  }
  return ids;
}

/** Rule (and override) ids that matched, with the weight each added. */
function matchedWeights(ruleset: CompiledRuleset, o: Outcome): Map<string, number> {
  const out = new Map<string, number>();
  if (o.override !== null) out.set(o.override, 0);
  const ids = ruleIds(ruleset);
  for (const r of o.reasons) if (ids.has(r.rule)) out.set(r.rule, r.weight);
  for (const r of o.shadowReasons) out.set(r.rule, r.weight);
  return out;
}

const side = (o: Outcome): Side => ({ verdict: o.verdict, tier: o.tier, score: o.score, reasons: o.reasons.map((r) => r.code) });

/** Start an empty report. */
export function emptyReport(live: CompiledRuleset, candidate: CompiledRuleset): ReplayReport {
  const rules = new Map<string, RuleStat>();
  for (const rs of [live, candidate]) {
    for (const id of [...rs.overrides.map((o) => o.id), ...rs.rules.map((r) => r.id)]) {
      if (!rules.has(id)) rules.set(id, { id, live: 0, candidate: 0, gained: 0, lost: 0, changed: 0 });
    }
  }
  return {
    liveVersion: live.version, candidateVersion: candidate.version,
    lines: 0, decisions: 0, skipped: 0, noFacts: 0, malformed: 0, malformedLines: [],
    verdictChanged: 0, tierChanged: 0, recordedDiffers: 0,
    verdictMoves: {}, tierMoves: {}, rules, samples: [],
  };
}

/** Account one log line in the report. */
export function replayLine(report: ReplayReport, live: CompiledRuleset, candidate: CompiledRuleset, text: string, samples: number): void {
  report.lines++;
  if (text.trim() === "") return;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    report.malformed++;
    if (report.malformedLines.length < 5) report.malformedLines.push(report.lines);
    return;
  }
  const line = json as { type?: unknown; facts?: unknown; verdict?: unknown; tier?: unknown; id?: unknown };
  if (line.type !== "riskgate.decision") return void report.skipped++;
  if (typeof line.facts !== "object" || line.facts === null) return void report.noFacts++;
  report.decisions++;
  const input = inputFrom(json);
  const a = outcomeFor(live, input);
  const b = outcomeFor(candidate, input);
  if (a.verdict !== line.verdict || a.tier !== line.tier) report.recordedDiffers++;
  const verdictMoved = a.verdict !== b.verdict;
  const tierMoved = a.tier !== b.tier;
  if (verdictMoved) {
    report.verdictChanged++;
    const key = `${a.verdict} → ${b.verdict}`;
    report.verdictMoves[key] = (report.verdictMoves[key] ?? 0) + 1;
  }
  if (tierMoved) {
    report.tierChanged++;
    const key = `${a.tier} → ${b.tier}`;
    report.tierMoves[key] = (report.tierMoves[key] ?? 0) + 1;
  }
  const differing = tallyRules(report, matchedWeights(live, a), matchedWeights(candidate, b), verdictMoved || tierMoved);
  if ((verdictMoved || tierMoved) && report.samples.length < samples) {
    report.samples.push({ line: report.lines, id: typeof line.id === "string" ? line.id : null, live: side(a), candidate: side(b), rules: differing });
  }
}

function tallyRules(report: ReplayReport, a: Map<string, number>, b: Map<string, number>, changed: boolean): string[] {
  const differing: string[] = [];
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const stat = report.rules.get(id);
    if (stat === undefined) continue;
    const inA = a.has(id);
    const inB = b.has(id);
    if (inA) stat.live++;
    if (inB) stat.candidate++;
    if (inB && !inA) stat.gained++;
    if (inA && !inB) stat.lost++;
    if (inA !== inB || a.get(id) !== b.get(id)) {
      differing.push(id);
      if (changed) stat.changed++;
    }
  }
  return differing;
}

/** Replay a stream of log lines. */
export async function replay(lines: AsyncIterable<string>, live: CompiledRuleset, candidate: CompiledRuleset, options: ReplayOptions): Promise<ReplayReport> {
  const report = emptyReport(live, candidate);
  for await (const text of lines) {
    replayLine(report, live, candidate, text, options.samples);
    if (options.onProgress !== undefined && report.lines % options.progressEvery === 0) options.onProgress(report);
  }
  return report;
}
