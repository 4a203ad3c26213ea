/**
 * `riskgate_list_source_*`: the scheduled list refresh's per-source status
 * (src/audit/hub/source-status.ts) as Prometheus gauges, appended to /__riskgate/metrics.
 */
import type { ListSourceStatus, SourceState } from "../shared/list-sources.ts";

const STATES: readonly SourceState[] = ["ok", "SOURCE_STALE", "SOURCE_LAPSED", "pending"];

const label = (s: ListSourceStatus) => `source="${s.id.replace(/["\\\n]/g, "_")}",list="${s.list.replace(/["\\\n]/g, "_")}"`;

/** The gauges, or "" when no source has been refreshed. */
export function renderSourceMetrics(sources: readonly ListSourceStatus[]): string {
  if (sources.length === 0) return "";
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: (s: ListSourceStatus) => number | null) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const s of sources) {
      const v = value(s);
      if (v !== null) lines.push(`${name}{${label(s)}} ${v}`);
    }
  };
  gauge("riskgate_list_source_entries", "Unexpired live entries held from the source.", (s) => s.entries);
  gauge("riskgate_list_source_excluded", "Entries the last good refresh dropped for overlapping an exclude: range.", (s) => s.excluded);
  gauge("riskgate_list_source_last_success_seconds", "Unix time of the source's last successful refresh.", (s) =>
    s.last_success === null ? null : Math.floor(s.last_success / 1000),
  );
  lines.push("# HELP riskgate_list_source_errors_total Failed refreshes of the source.", "# TYPE riskgate_list_source_errors_total counter");
  for (const s of sources) lines.push(`riskgate_list_source_errors_total{${label(s)}} ${s.errors}`);
  lines.push("# HELP riskgate_list_source_state 1 for the source's current state (ok, SOURCE_STALE, SOURCE_LAPSED, pending).", "# TYPE riskgate_list_source_state gauge");
  for (const s of sources) for (const st of STATES) lines.push(`riskgate_list_source_state{${label(s)},state="${st}"} ${s.state === st ? 1 : 0}`);
  return `${lines.join("\n")}\n`;
}
