/**
 * Prometheus text exposition (format 0.0.4) of the hub's running totals, for teams
 * that scrape `GET /__riskgate/metrics`. Histograms are stored per bucket and made
 * cumulative here, as the format requires.
 */
import type { SinkStatus } from "../audit/hub/outbox.ts";
import type { SeriesValue } from "./aggregate.ts";
import { METRICS, type MetricDef, OUTBOX_GAUGES } from "./catalogue.ts";

/** Content type Prometheus expects. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function header(name: string, type: string, help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

function counter(def: MetricDef, series: readonly SeriesValue[]): string[] {
  const lines = header(def.name, "counter", def.help);
  for (const s of series) if (s.name === def.name) lines.push(`${def.name}${labelText(s.labels)} ${s.value}`);
  return lines;
}

function histogram(def: MetricDef, series: readonly SeriesValue[]): string[] {
  const lines = header(def.name, "histogram", def.help);
  // Group bucket counts by the labels other than `le`.
  const groups = new Map<string, { labels: Record<string, string>; buckets: Map<string, number> }>();
  for (const s of series) {
    if (s.name !== `${def.name}_bucket`) continue;
    const { le = "+Inf", ...rest } = s.labels;
    const key = labelText(rest);
    const group = groups.get(key) ?? { labels: rest, buckets: new Map<string, number>() };
    group.buckets.set(le, (group.buckets.get(le) ?? 0) + s.value);
    groups.set(key, group);
  }
  for (const [key, { labels, buckets }] of groups) {
    let cumulative = 0;
    for (const bound of [...(def.buckets ?? []).map(String), "+Inf"]) {
      cumulative += buckets.get(bound) ?? 0;
      lines.push(`${def.name}_bucket${labelText({ ...labels, le: bound })} ${cumulative}`);
    }
    const sum = series.find((s) => s.name === `${def.name}_sum` && labelText(s.labels) === key)?.value ?? 0;
    lines.push(`${def.name}_sum${key} ${sum}`, `${def.name}_count${key} ${cumulative}`);
  }
  return lines;
}

function outbox(sinks: readonly SinkStatus[]): string[] {
  const g = OUTBOX_GAUGES;
  const each = (name: string, value: (s: SinkStatus) => number) => sinks.map((s) => `${name}{sink="${s.sink}"} ${value(s)}`);
  return [
    ...header(g.pending.name, "gauge", g.pending.help),
    ...each(g.pending.name, (s) => s.pending),
    ...header(g.oldest.name, "gauge", g.oldest.help),
    ...each(g.oldest.name, (s) => Math.round((s.oldestAgeMs ?? 0) / 1000)),
    ...header(g.delivered.name, "counter", g.delivered.help),
    ...each(g.delivered.name, (s) => s.delivered),
    ...header(g.failures.name, "counter", g.failures.help),
    ...each(g.failures.name, (s) => s.failures),
  ];
}

/** The whole exposition. */
export function renderPrometheus(totals: readonly SeriesValue[], sinks: readonly SinkStatus[]): string {
  const lines: string[] = [];
  for (const def of Object.values(METRICS) as MetricDef[]) {
    lines.push(...(def.type === "histogram" ? histogram(def, totals) : counter(def, totals)));
  }
  lines.push(...outbox(sinks));
  return `${lines.join("\n")}\n`;
}
