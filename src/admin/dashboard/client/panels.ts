/**
 * The summary panels: headline numbers, decisions over time by verdict and by tier,
 * top reasons, score distribution, rate-limit ladder, challenges, outcomes and cost,
 * dependency health and the audit sinks.
 */
import type { DashboardSummary, DependencyHealth, SinkStatus } from "../../../audit/api-types.ts";
import { hbars, histogram, type Series, stackedBars } from "./charts.ts";
import { empty, h, num, panel, pct, pill } from "./dom.ts";

const VERDICT_COLORS: Record<string, string> = { allow: "#22c55e", challenge: "#f59e0b", deny: "#ef4444" };
// The shipped tier names get fixed colours; other names take the palette in order.
const TIER_COLORS: Record<string, string> = { low: "#38bdf8", medium: "#a78bfa", high: "#f97316", critical: "#dc2626" };
const PALETTE = ["#14b8a6", "#eab308", "#ec4899", "#84cc16", "#94a3b8"];

function series(groups: Readonly<Record<string, readonly number[]>>, colors: (name: string, i: number) => string): Series[] {
  return Object.entries(groups).map(([name, values], i) => ({ name, values, color: colors(name, i) }));
}

function kpi(id: string, label: string, value: string): HTMLElement {
  return h("div", { class: "kpi", "data-testid": id }, h("b", {}, value), h("small", {}, label));
}

function headline(s: DashboardSummary): HTMLElement {
  const total = (v: string) => (s.verdicts[v] ?? []).reduce((a, b) => a + b, 0);
  const share = (v: string) => (s.total === 0 ? null : total(v) / s.total);
  const origin = s.dependencies.find((d) => d.name === "origin");
  return panel(
    "panel-kpis",
    `last ${s.minutes} minutes`,
    12,
    h("div", { class: "kpis" },
      kpi("kpi-total", "decisions", num(s.total)),
      kpi("kpi-allow", "allowed", pct(share("allow"))),
      kpi("kpi-challenge", "challenged", pct(share("challenge"))),
      kpi("kpi-deny", "denied", pct(share("deny"))),
      kpi("kpi-challenges", "challenges solved / issued", `${num(s.challenges.solved)} / ${num(s.challenges.issued)}`),
      kpi("kpi-origin", "origin errors (5 min)", num(origin?.errors ?? 0)),
      kpi("kpi-cost", "cost per completed reset", costText(s.outcomes.costPerCompleted))),
  );
}

function costText(perCompleted: Readonly<Record<string, number>>): string {
  const entries = Object.entries(perCompleted);
  return entries.length === 0 ? "—" : entries.map(([currency, v]) => `${num(v, 3)} ${currency}`).join(", ");
}

function timePanels(s: DashboardSummary): HTMLElement[] {
  const verdicts = series(s.verdicts, (name) => VERDICT_COLORS[name] ?? "#94a3b8");
  const tiers = series(s.tiers, (name, i) => TIER_COLORS[name] ?? PALETTE[i % PALETTE.length] ?? "#94a3b8");
  return [
    panel("panel-verdicts", "decisions by verdict", 6, s.total === 0 ? empty("No decisions in this window yet.") : stackedBars(s.buckets, verdicts, "decisions by verdict per minute")),
    panel("panel-tiers", "decisions by tier", 6, s.total === 0 ? empty("No decisions in this window yet.") : stackedBars(s.buckets, tiers, "decisions by tier per minute")),
  ];
}

function distributionPanels(s: DashboardSummary): HTMLElement[] {
  const scores = s.scores.map((b) => ({ label: b.le === "+Inf" ? ">150" : `≤${b.le}`, count: b.count }));
  const steps = s.rateLimit.steps.map((x) => ({ label: `${x.ladder} · step ${x.step} · ${x.action}`, count: x.count }));
  return [
    panel("panel-reasons", "top reasons", 4, s.reasons.length === 0 ? empty("No reason codes yet.") : hbars(s.reasons.map((r) => ({ label: r.code, count: r.count })))),
    panel("panel-scores", "score distribution", 4, histogram(scores, "#38bdf8", "decisions per score bucket")),
    panel(
      "panel-ratelimit",
      "rate-limit ladder",
      4,
      steps.length === 0
        ? empty("No rate-limit steps in this window (ratelimit.step events).")
        : h("div", {}, stackedBars(s.buckets, [{ name: "steps", color: "#f97316", values: s.rateLimit.series }], "rate-limit steps per minute"), hbars(steps)),
    ),
  ];
}

function outcomesPanel(s: DashboardSummary): HTMLElement {
  const o = s.outcomes;
  const rows = Object.entries(o.counts).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", { class: "num" }, num(v))));
  return panel(
    "panel-outcomes",
    "outcomes and cost",
    4,
    rows.length === 0 ? empty("No outcomes reported yet (POST /v1/outcomes).") : h("table", {}, h("tbody", {}, ...rows)),
    h("p", { class: "muted" }, `reset success ${pct(o.successRate)} · abandonment ${pct(o.abandonmentRate)} · cost per completed reset ${costText(o.costPerCompleted)}`),
  );
}

function healthRow(d: DependencyHealth): HTMLElement {
  return h(
    "tr",
    { "data-dependency": d.name },
    h("td", {}, d.name),
    h("td", {}, pill(d.status)),
    h("td", { class: "num" }, num(d.requests)),
    h("td", { class: "num" }, num(d.errors)),
    h("td", { class: "num" }, d.p50Ms === null ? "—" : `≤${num(d.p50Ms)} ms`),
    h("td", { class: "num" }, d.p95Ms === null ? "—" : `≤${num(d.p95Ms)} ms`),
    h("td", { class: "muted" }, d.detail ?? ""),
  );
}

function healthPanel(s: DashboardSummary, onDeliver: () => void): HTMLElement {
  const head = h("tr", {}, ...["dependency", "status", "requests", "errors", "p50", "p95", ""].map((t, i) => h("th", { class: i >= 2 && i <= 5 ? "num" : null }, t)));
  const sinkNote = s.sinks.length === 0 ? "No remote audit sink configured (AUDIT_WEBHOOK_URL / AUDIT_QUEUE)." : sinkText(s.sinks);
  const button = h("button", { type: "button", "data-testid": "deliver-now" }, "deliver audit outbox now");
  button.addEventListener("click", onDeliver);
  return panel(
    "panel-health",
    "dependency health (last 5 minutes)",
    8,
    h("table", {}, h("thead", {}, head), h("tbody", {}, ...s.dependencies.map(healthRow))),
    h("p", { class: "muted" }, sinkNote, " ", s.sinks.length === 0 ? null : button),
  );
}

function sinkText(sinks: readonly SinkStatus[]): string {
  return sinks.map((x) => `${x.sink}: ${x.pending} pending, ${x.delivered} delivered${x.lastError === null ? "" : `, last error ${x.lastError}`}`).join(" · ");
}

function versionsPanel(s: DashboardSummary): HTMLElement {
  const rows = s.versions.map((v) => h("tr", {}, h("td", {}, v.kind), h("td", {}, h("code", {}, v.value)), h("td", { class: "muted" }, new Date(v.lastSeen).toLocaleString())));
  return panel("panel-versions", "rule sets and signing keys seen", 4, rows.length === 0 ? empty("None yet.") : h("table", {}, h("tbody", {}, ...rows)));
}

/** Every summary panel, in page order. */
export function summaryPanels(s: DashboardSummary, onDeliver: () => void): HTMLElement[] {
  return [headline(s), ...timePanels(s), ...distributionPanels(s), healthPanel(s, onDeliver), outcomesPanel(s), versionsPanel(s)];
}
