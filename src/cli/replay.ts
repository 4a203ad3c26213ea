/**
 * `riskgate rules replay <decisions.jsonl> --candidate <dir>`: a backtest. Every
 * recorded decision's facts are decided again by the live rules and by the candidate;
 * the report counts changed verdicts and tiers, per rule, with sample diffs.
 *
 * Verdicts are final ones: each side's outcome escalated with the ladder steps and the
 * CAPTCHA step the line recorded (src/cli/recorded.ts), as the Worker escalates it.
 *
 * With outcomes (`--outcomes`, the `riskgate.outcome` lines of the log or of `riskgate
 * decisions export`), each decision is joined to what happened next: a `fraud_reported`
 * reset the candidate would stop (deny or challenge) where live let it through is caught;
 * a `completed` reset the candidate would put a CAPTCHA or a refusal in front of, where
 * live did not, is added friction.
 *
 * Streams: lines are consumed one at a time and only counters and a bounded number of
 * samples are kept, so memory stays flat however long the log is. The outcomes are held
 * as one entry per reported decision (fraud_reported and completed only).
 */
import type { Outcome } from "../scoring/verdict.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import { inputFrom } from "./explain.ts";
import { type Final, finalFor, recordedFrom } from "./recorded.ts";

/** What the origin reported for a decision, as the replay joins it (fraud wins over completed). */
export type JoinedOutcome = "fraud_reported" | "completed";

/** Decision id → its reported outcome. */
export type OutcomeIndex = ReadonlyMap<string, JoinedOutcome>;

/** One side's counts over the decisions with an outcome of one kind. */
export interface OutcomeSide {
  /** Denied or challenged (fraud: stopped). */
  stopped: number;
  /** Asked for a CAPTCHA (solved or not) or denied or challenged (completed: friction). */
  friction: number;
}

/** Replay joined to outcomes, per outcome kind. */
export interface OutcomeJoin {
  readonly kind: JoinedOutcome;
  /** Replayed decisions with this outcome. */
  total: number;
  readonly live: OutcomeSide;
  readonly candidate: OutcomeSide;
  /** Stopped (fraud) / given friction (completed) by the candidate but not by live. */
  gained: number;
  /** The reverse: stopped or given friction by live but not by the candidate. */
  lost: number;
}

/** Read `riskgate.outcome` lines; other lines are skipped. */
export async function readOutcomes(lines: AsyncIterable<string>): Promise<{ index: Map<string, JoinedOutcome>; lines: number; outcomes: number }> {
  const index = new Map<string, JoinedOutcome>();
  let count = 0;
  let outcomes = 0;
  for await (const text of lines) {
    count++;
    if (!text.includes("riskgate.outcome")) continue;
    let json: { type?: unknown; decision?: unknown; event?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      continue;
    }
    if (json.type !== "riskgate.outcome" || typeof json.decision !== "string") continue;
    outcomes++;
    if (json.event === "fraud_reported") index.set(json.decision, "fraud_reported");
    else if (json.event === "completed" && !index.has(json.decision)) index.set(json.decision, "completed");
  }
  return { index, lines: count, outcomes };
}

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
  /** Outcomes joined by decision id; null when replay was given none. */
  readonly outcomes: { fraud_reported: OutcomeJoin; completed: OutcomeJoin } | null;
}

/** Replay options. */
export interface ReplayOptions {
  readonly samples: number;
  readonly progressEvery: number;
  readonly onProgress?: (report: ReplayReport) => void;
  readonly outcomes?: OutcomeIndex;
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

const side = (f: Final): Side => ({ verdict: f.verdict, tier: f.outcome.tier, score: f.outcome.score, reasons: f.reasons.map((r) => r.code) });

const join = (kind: JoinedOutcome): OutcomeJoin => ({ kind, total: 0, live: { stopped: 0, friction: 0 }, candidate: { stopped: 0, friction: 0 }, gained: 0, lost: 0 });

const stopped = (f: Final) => f.verdict !== "allow";
const friction = (f: Final) => f.verdict !== "allow" || f.captchaAsked;

function tallyOutcome(j: OutcomeJoin, a: Final, b: Final): void {
  const hit = j.kind === "fraud_reported" ? stopped : friction;
  j.total++;
  for (const [s, f] of [[j.live, a], [j.candidate, b]] as const) {
    if (stopped(f)) s.stopped++;
    if (friction(f)) s.friction++;
  }
  if (hit(b) && !hit(a)) j.gained++;
  if (hit(a) && !hit(b)) j.lost++;
}

/** Start an empty report (`withOutcomes`: outcomes are joined). */
export function emptyReport(live: CompiledRuleset, candidate: CompiledRuleset, withOutcomes = false): ReplayReport {
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
    outcomes: withOutcomes ? { fraud_reported: join("fraud_reported"), completed: join("completed") } : null,
  };
}

/** Account one log line in the report. */
export function replayLine(report: ReplayReport, live: CompiledRuleset, candidate: CompiledRuleset, text: string, samples: number, outcomes?: OutcomeIndex): void {
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
  let recorded: ReturnType<typeof recordedFrom>;
  try {
    recorded = recordedFrom(json);
  } catch {
    report.malformed++;
    if (report.malformedLines.length < 5) report.malformedLines.push(report.lines);
    return;
  }
  report.decisions++;
  const input = inputFrom(json);
  const a = finalFor(live, input, recorded);
  const b = finalFor(candidate, input, recorded);
  if (a.verdict !== line.verdict || a.outcome.tier !== line.tier) report.recordedDiffers++;
  const verdictMoved = a.verdict !== b.verdict;
  const tierMoved = a.outcome.tier !== b.outcome.tier;
  if (verdictMoved) {
    report.verdictChanged++;
    const key = `${a.verdict} → ${b.verdict}`;
    report.verdictMoves[key] = (report.verdictMoves[key] ?? 0) + 1;
  }
  if (tierMoved) {
    report.tierChanged++;
    const key = `${a.outcome.tier} → ${b.outcome.tier}`;
    report.tierMoves[key] = (report.tierMoves[key] ?? 0) + 1;
  }
  const reported = report.outcomes === null || typeof line.id !== "string" ? undefined : outcomes?.get(line.id);
  if (reported !== undefined && report.outcomes !== null) tallyOutcome(report.outcomes[reported], a, b);
  const differing = tallyRules(report, matchedWeights(live, a.outcome), matchedWeights(candidate, b.outcome), verdictMoved || tierMoved);
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
  const report = emptyReport(live, candidate, options.outcomes !== undefined);
  for await (const text of lines) {
    replayLine(report, live, candidate, text, options.samples, options.outcomes);
    if (options.onProgress !== undefined && report.lines % options.progressEvery === 0) options.onProgress(report);
  }
  return report;
}
