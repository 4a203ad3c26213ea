/**
 * The experiment report for a terminal (`riskgate experiments report <id>`): the verdict
 * first, then the arms ranked by cost per completed reset with 95 % intervals, the
 * comparisons with the leader and the guardrails. Plain text, fixed-width columns.
 */
import type { ExperimentReport, Rate } from "./report.ts";
import { fmt, fmtP } from "./verdict.ts";

const pct = (x: number) => `${fmt(x * 100)}%`;

/** Fixed-width columns: the first `left` left-aligned (names), the rest right-aligned (numbers). */
function table(rows: readonly (readonly string[])[], left = 1): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i < left ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ").trimEnd()).join("\n");
}

function withCi(r: Rate | { value: number | null; ci: { lo: number; hi: number } | null }, f: (n: number) => string): string {
  return r.value === null ? "n/a" : `${f(r.value)} (${r.ci === null ? "?" : `${f(r.ci.lo)}–${f(r.ci.hi)}`})`;
}

function wrap(text: string, width = 96, indent = "  "): string {
  const words = text.split(" ");
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    if (line.length > 0 && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else {
      line = line.length === 0 ? w : `${line} ${w}`;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines.map((l) => `${indent}${l}`).join("\n");
}

/** Render a report for a terminal. */
export function reportText(report: ExperimentReport): string {
  const out: string[] = [];
  out.push(`experiment ${report.id}: tier ${report.tier}, ${report.start.slice(0, 10)} to ${report.end.slice(0, 10)}, ${report.status}`);
  if (report.description !== "") out.push(wrap(report.description, 96, ""));
  out.push("", "verdict", wrap(report.verdict.headline), ...report.verdict.details.map((d) => wrap(d)));
  out.push("", `arms, ranked by cost per completed reset (${report.currency}; 95% intervals)`);
  out.push(table([
    ["rank", "arm", "channels", "exposures", "sends", "completion", "fraud", "abandoned", "cost", "per completed reset", "status"],
    ...report.arms.map((a) => [
      a.rank === null ? "-" : String(a.rank),
      a.arm,
      a.channels.join(">"),
      fmt(a.exposures),
      fmt(a.sends),
      withCi(a.completionRate, pct),
      withCi(a.fraudRate, pct),
      fmt(a.abandonments),
      fmt(a.cost),
      withCi(a.costPerCompletion, fmt),
      a.stopped === null ? "live" : `STOPPED (${a.stopped.guardrail}${a.stopped.date ? ` ${a.stopped.date}` : ""})`,
    ]),
  ], 3));
  if (report.comparisons.length > 0) {
    out.push("", "against the leader (Welch's t on cost per completed reset, Holm-adjusted; z-tests on rates)");
    out.push(table([
      ["arm", "vs", "d cost/completion", "p", "d completion", "p", "d fraud", "p"],
      ...report.comparisons.map((c) => [c.arm, c.leader, fmt(c.costDiff), fmtP(c.costPAdjusted), pct(c.completionDiff), fmtP(c.completionP), pct(c.fraudDiff), fmtP(c.fraudP)]),
    ], 2));
  }
  const guards = report.arms.flatMap((a) => a.guardrails.map((g) => [a.arm, g.metric, `${pct(g.max)} vs ${pct(g.detect)}`, `${fmt(g.events)}/${fmt(g.exposures)}`, `${fmt(g.llr)} of ${fmt(g.threshold)}`, a.stopped?.guardrail === g.metric ? "stopped" : g.crossed ? "crossed" : "ok"]));
  if (guards.length > 0) {
    out.push("", "guardrails (one-sided SPRT: stop when the statistic reaches ln(1/alpha))");
    out.push(table([["arm", "guardrail", "H0 vs H1", "events", "statistic", "state"], ...guards], 2));
  }
  return `${out.join("\n")}\n`;
}
