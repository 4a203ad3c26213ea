/**
 * Rendering a replay report: text for people, JSON for scripts.
 */
import type { OutcomeJoin, ReplayReport, Side } from "./replay.ts";

const num = (n: number) => n.toLocaleString("en-US");
const pct = (n: number, of: number) => (of === 0 ? "0%" : `${((100 * n) / of).toFixed(2)}%`);

function moves(m: Record<string, number>): string {
  const parts = Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${num(v)}`);
  return parts.length === 0 ? "" : `   (${parts.join(", ")})`;
}

const sideText = (s: Side) => `${s.verdict}/${s.tier} score ${s.score} [${s.reasons.join(", ")}]`;

/** The report as text. */
export function formatReplay(r: ReplayReport, source: string): string {
  const out: string[] = [];
  out.push(`replayed ${num(r.decisions)} decisions from ${source} (${num(r.lines)} lines)`);
  if (r.skipped + r.noFacts + r.malformed > 0) {
    const bad = r.malformedLines.length > 0 ? ` at lines ${r.malformedLines.join(", ")}${r.malformed > r.malformedLines.length ? ", ..." : ""}` : "";
    out.push(`  skipped: ${num(r.skipped)} other log lines, ${num(r.noFacts)} decisions without facts, ${num(r.malformed)} malformed${bad}`);
  }
  out.push(`live rules ${r.liveVersion} → candidate ${r.candidateVersion}`);
  out.push(`verdict changed: ${num(r.verdictChanged)} (${pct(r.verdictChanged, r.decisions)})${moves(r.verdictMoves)}`);
  out.push(`tier changed:    ${num(r.tierChanged)} (${pct(r.tierChanged, r.decisions)})${moves(r.tierMoves)}`);
  if (r.recordedDiffers > 0) {
    out.push(`note: the live rules decide ${num(r.recordedDiffers)} of these differently from what was recorded (log written by other rules, or fail modes at the time)`);
  }
  const stats = [...r.rules.values()].filter((s) => s.live !== s.candidate || s.gained + s.lost + s.changed > 0);
  if (stats.length > 0) {
    const width = Math.max(4, ...stats.map((s) => s.id.length));
    out.push("per rule (matches under live → candidate; decisions changed where the rule's match or weight differs):");
    out.push(`  ${"rule".padEnd(width)}  ${"live".padStart(10)}  ${"candidate".padStart(10)}  ${"+gained".padStart(9)}  ${"-lost".padStart(9)}  ${"changed".padStart(9)}`);
    for (const s of stats) {
      out.push(`  ${s.id.padEnd(width)}  ${num(s.live).padStart(10)}  ${num(s.candidate).padStart(10)}  ${num(s.gained).padStart(9)}  ${num(s.lost).padStart(9)}  ${num(s.changed).padStart(9)}`);
    }
  }
  const unchanged = r.rules.size - stats.length;
  if (unchanged > 0) out.push(`  (${unchanged} rule(s) match the same decisions under both)`);
  if (r.outcomes !== null) out.push(...outcomeLines(r.outcomes.fraud_reported, r.outcomes.completed));
  if (r.samples.length > 0) out.push("samples:");
  for (const s of r.samples) {
    out.push(`  line ${s.line}${s.id === null ? "" : ` (${s.id})`}: rules ${s.rules.join(", ") || "(tiers or channels only)"}`);
    out.push(`    live      ${sideText(s.live)}`);
    out.push(`    candidate ${sideText(s.candidate)}`);
  }
  return `${out.join("\n")}\n`;
}

/** The outcome join: fraud caught, friction added to people who completed. */
function outcomeLines(fraud: OutcomeJoin, completed: OutcomeJoin): string[] {
  const share = (n: number, of: number) => `${num(n)}/${num(of)} (${pct(n, of)})`;
  return [
    `outcomes joined by decision id: ${num(fraud.total)} fraud_reported, ${num(completed.total)} completed`,
    `  fraud_reported stopped (deny or challenge): live ${share(fraud.live.stopped, fraud.total)} → candidate ${share(fraud.candidate.stopped, fraud.total)}; caught ${num(fraud.gained)} more, let ${num(fraud.lost)} through that live stopped`,
    `  completed given friction (CAPTCHA, challenge or deny): live ${share(completed.live.friction, completed.total)} → candidate ${share(completed.candidate.friction, completed.total)}; added to ${num(completed.gained)}, removed from ${num(completed.lost)}`,
  ];
}

/** The report as JSON (Maps become arrays). */
export function replayJson(r: ReplayReport): unknown {
  return { ...r, rules: [...r.rules.values()] };
}
