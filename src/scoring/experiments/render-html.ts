/**
 * The experiment report as one self-contained HTML page: the verdict in words, charts
 * as inline SVG (cost per completed reset, completion and fraud rates, each with 95 %
 * intervals; cumulative exposures over time), and the numbers behind them. No script,
 * nothing loaded from anywhere: the CSP forbids it.
 */
import type { ArmReport, ExperimentReport } from "./report.ts";
import { esc, estimateChart, HOLDOUT_COLOUR, lineChart, PALETTE } from "./svg.ts";
import { fmt, fmtP } from "./verdict.ts";

/** Headers of the report page: no script, inline styles only, never framed or cached. */
export const REPORT_PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1120px;color:#1d1d1d;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}.muted{color:#666;fill:#666}
.verdict{border-left:5px solid #0072B2;background:#f3f7fb;padding:10px 14px;margin:16px 0}.verdict.enough{border-color:#009E73;background:#f0f8f4}
.verdict p{margin:4px 0}.headline{font-weight:600}table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e3e3e3;padding:5px 6px;text-align:right;font-size:13px}td{white-space:nowrap}th:first-child,td:first-child{text-align:left}
.charts{display:grid;grid-template-columns:1fr;gap:18px}svg .title{font-weight:600;font-size:13px}svg .tick{font-size:11px;fill:#666}
svg .label{font-size:12px}svg .value{font-size:11px}svg .bound{font-size:11px;fill:#c00}.stopped{color:#c00}code{font-size:12px}`;

const pct = (x: number) => `${fmt(x * 100)} %`;

function colours(report: ExperimentReport): Map<string, string> {
  let i = 0;
  return new Map(report.arms.map((a) => [a.arm, a.holdout ? HOLDOUT_COLOUR : (PALETTE[i++ % PALETTE.length] ?? "#000")]));
}

function charts(report: ExperimentReport): string {
  const colour = colours(report);
  const rows = (pick: (a: ArmReport) => { value: number | null; lo: number | null; hi: number | null }) =>
    report.arms.map((a) => ({ label: a.arm, colour: colour.get(a.arm) ?? "#000", ...pick(a), ...(a.stopped === null ? {} : { note: "stopped" }) }));
  const fraudBound = report.arms.flatMap((a) => a.guardrails).find((g) => g.metric === "fraud_rate")?.max;
  const cost = estimateChart({
    id: "chart-cost",
    title: `Cost per completed reset (${report.currency}), 95 % interval`,
    rows: rows((a) => ({ value: a.costPerCompletion.value, lo: a.costPerCompletion.ci?.lo ?? null, hi: a.costPerCompletion.ci?.hi ?? null })),
    format: (n) => fmt(n),
  });
  const completion = estimateChart({
    id: "chart-completion",
    title: "Completion rate (completed resets per exposure), 95 % interval",
    rows: rows((a) => ({ value: a.completionRate.value, lo: a.completionRate.ci?.lo ?? null, hi: a.completionRate.ci?.hi ?? null })),
    format: pct,
  });
  const fraud = estimateChart({
    id: "chart-fraud",
    title: "Fraud rate (fraud reports per exposure), 95 % interval",
    rows: rows((a) => ({ value: a.fraudRate.value, lo: a.fraudRate.ci?.lo ?? null, hi: a.fraudRate.ci?.hi ?? null })),
    format: pct,
    ...(fraudBound === undefined ? {} : { bound: { value: fraudBound, label: `guardrail ${pct(fraudBound)}` } }),
  });
  const exposures = lineChart(
    "chart-exposures",
    "Cumulative exposures (hourly)",
    report.series.map((s) => ({ label: s.arm, colour: colour.get(s.arm) ?? "#000", points: s.points.map((p) => ({ t: Date.parse(p.t), y: p.cumulative })) })),
  );
  return `<div class="charts">${cost}${completion}${fraud}${exposures}</div>`;
}

function armTable(report: ExperimentReport): string {
  const head = ["arm", "channels", "share", "exposures", "sends", "completed", "completion (95 % CI)", "abandoned", "fraud (95 % CI)", `cost (${report.currency})`, "per completed reset (95 % CI)", "rank", "status"];
  const ci = (r: { value: number | null; ci: { lo: number; hi: number } | null }, f: (n: number) => string) =>
    r.value === null ? "n/a" : `${f(r.value)}${r.ci === null ? "" : `<br><small class="muted">${f(r.ci.lo)}–${f(r.ci.hi)}</small>`}`;
  const body = report.arms.map((a) => `<tr data-testid="arm-row" data-arm="${esc(a.arm)}">` + [
    a.holdout ? `${esc(a.arm)} <span class="muted">(tier default)</span>` : esc(a.arm),
    esc(a.channels.join(" → ")),
    pct(a.share),
    fmt(a.exposures),
    fmt(a.sends),
    fmt(a.completions),
    ci(a.completionRate, pct),
    fmt(a.abandonments),
    ci(a.fraudRate, pct),
    fmt(a.cost),
    ci(a.costPerCompletion, fmt),
    a.rank === null ? "–" : String(a.rank),
    a.stopped === null ? "live" : `<span class="stopped">stopped (${esc(a.stopped.guardrail)}${a.stopped.date ? `, ${esc(a.stopped.date)}` : ""})</span>`,
  ].map((c) => `<td>${c}</td>`).join("") + "</tr>").join("");
  return `<table data-testid="arms"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table>`;
}

function comparisonTable(report: ExperimentReport): string {
  if (report.comparisons.length === 0) return `<p class="muted">No comparisons yet: at least two arms need completed resets.</p>`;
  const head = ["arm vs leader", "Δ cost per completed reset", "p (Welch, Holm)", "Δ completion", "p", "Δ fraud", "p", "≈ more exposures per arm"];
  const body = report.comparisons.map((c) => `<tr>${[
    `${esc(c.arm)} vs ${esc(c.leader)}`, fmt(c.costDiff), esc(fmtP(c.costPAdjusted)), pct(c.completionDiff), esc(fmtP(c.completionP)), pct(c.fraudDiff), esc(fmtP(c.fraudP)), c.moreExposures === null || c.moreExposures === 0 ? "–" : fmt(c.moreExposures),
  ].map((x) => `<td>${x}</td>`).join("")}</tr>`).join("");
  return `<table data-testid="comparisons"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table>`;
}

function guardrailTable(report: ExperimentReport): string {
  const rows = report.arms.flatMap((a) => a.guardrails.map((g) => `<tr data-guardrail="${esc(a.arm)}:${g.metric}">${[
    esc(a.arm), esc(g.metric), pct(g.max), pct(g.detect), `${fmt(g.events)} / ${fmt(g.exposures)}`, `${fmt(g.llr)} of ${fmt(g.threshold)}`, a.stopped?.guardrail === g.metric ? "stopped" : g.crossed ? "crossed" : "ok",
  ].map((x) => `<td>${x}</td>`).join("")}</tr>`));
  if (rows.length === 0) return `<p class="muted">No guardrails defined.</p>`;
  const head = ["arm", "guardrail", "bound (H0)", "detect (H1)", "events / exposures", "SPRT statistic", "state"];
  return `<table data-testid="guardrails"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The whole page. */
export function reportPage(report: ExperimentReport): string {
  const v = report.verdict;
  const verdict = `<section class="verdict${v.enough ? " enough" : ""}" data-testid="verdict" data-leader="${esc(v.leader ?? "")}" data-enough="${v.enough}">` +
    `<p class="headline">${esc(v.headline)}</p>${v.details.map((d) => `<p>${esc(d)}</p>`).join("")}</section>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>riskgate · experiment ${esc(report.id)}</title><link rel="icon" href="data:,"><style>${STYLE}</style></head><body>
<h1>Experiment <code>${esc(report.id)}</code></h1>
<p class="muted">tier <b>${esc(report.tier)}</b> · ${esc(report.start.slice(0, 10))} → ${esc(report.end.slice(0, 10))} · <span data-testid="status">${esc(report.status)}</span> · generated ${esc(report.generatedAt.slice(0, 19).replace("T", " "))} UTC · <a href="?format=json">JSON</a></p>
${report.description === "" ? "" : `<p>${esc(report.description)}</p>`}
${verdict}
<h2>Charts</h2>${charts(report)}
<h2>Arms</h2>${armTable(report)}
<h2>Against the leader</h2>${comparisonTable(report)}
<h2>Guardrails</h2>${guardrailTable(report)}
<h2>Method</h2><p class="muted">Rates: Wilson score intervals. Cost per completed reset: ratio of sums, delta-method standard error over 16 random groups of decisions, Student-t interval (15 df). Arms compared with the leader by Welch's t-test (Holm-adjusted) and two-proportion z-tests. Guardrails: one-sided SPRT per bound, stopping at ln(1/α). Details: docs/experiments.md.</p>
</body></html>`;
}
