/**
 * Inline SVG charts for the experiment page: no script, no CDN, nothing fetched. Two
 * kinds: estimates with 95 % intervals per arm (dot and whisker), and cumulative lines
 * over time. Every text is escaped; every mark carries data-* attributes the browser
 * test reads.
 */

/** Colours by arm position (colour-blind-safe Okabe–Ito palette); the holdout is grey. */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"];
export const HOLDOUT_COLOUR = "#777777";

/** Escape text for HTML and SVG. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** One row of a dot-and-whisker chart. */
export interface EstimateRow {
  readonly label: string;
  readonly colour: string;
  readonly value: number | null;
  readonly lo: number | null;
  readonly hi: number | null;
  /** Shown at the end of the row (e.g. "stopped"). */
  readonly note?: string;
}

/** Options of a dot-and-whisker chart. */
export interface EstimateChart {
  readonly id: string;
  readonly title: string;
  readonly rows: readonly EstimateRow[];
  readonly format: (n: number) => string;
  /** A reference line (e.g. a guardrail bound), labelled. */
  readonly bound?: { readonly value: number; readonly label: string };
}

const W = 780;
const LEFT = 110;
const RIGHT = 290;

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= x) ?? 10) * p;
}

/** A horizontal scale: linear from 0, or logarithmic when the values span more than 20×. */
interface Scale {
  readonly at: (v: number) => number;
  readonly ticks: readonly number[];
  readonly log: boolean;
}

function scaleFor(values: readonly number[]): Scale {
  const width = W - LEFT - RIGHT;
  const top = Math.max(0, ...values);
  const positive = values.filter((v) => v > 0);
  const bottom = positive.length === 0 ? 0 : Math.min(...positive);
  if (bottom > 0 && top / bottom > 20) {
    const lo = Math.floor(Math.log10(bottom));
    const hi = Math.ceil(Math.log10(top));
    const at = (v: number) => LEFT + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * width;
    return { at, ticks: Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i)), log: true };
  }
  const max = niceMax(top * 1.05);
  return { at: (v) => LEFT + (Math.min(v, max) / max) * width, ticks: [0, 0.25, 0.5, 0.75, 1].map((f) => f * max), log: false };
}

function axis(scale: Scale, y: number, format: (n: number) => string): string {
  return scale.ticks
    .map((t) => `<line x1="${scale.at(t)}" x2="${scale.at(t)}" y1="28" y2="${y}" stroke="#e3e3e3"/><text x="${scale.at(t)}" y="${y + 14}" text-anchor="middle" class="tick">${esc(format(t))}</text>`)
    .join("");
}

/** Estimates with 95 % intervals, one row per arm. */
export function estimateChart(chart: EstimateChart): string {
  const rowH = 30;
  const height = 48 + chart.rows.length * rowH + 20;
  const values = chart.rows.flatMap((r) => [r.lo, r.value, r.hi]).filter((v): v is number => v !== null);
  const s = scaleFor(chart.bound === undefined ? values : [...values, chart.bound.value]);
  const scale = s.at;
  const bottom = 36 + chart.rows.length * rowH;
  const rows = chart.rows.map((r, i) => {
    const y = 44 + i * rowH;
    const label = `<text x="${LEFT - 8}" y="${y + 4}" text-anchor="end" class="label">${esc(r.label)}</text>`;
    if (r.value === null) return `${label}<text x="${LEFT + 4}" y="${y + 4}" class="muted" data-arm="${esc(r.label)}" data-missing="true">no data yet</text>`;
    const whisker = r.lo === null || r.hi === null
      ? ""
      : `<line x1="${scale(r.lo)}" x2="${scale(r.hi)}" y1="${y}" y2="${y}" stroke="${r.colour}" stroke-width="3" data-ci="${r.lo}:${r.hi}"/>` +
        `<line x1="${scale(r.lo)}" x2="${scale(r.lo)}" y1="${y - 6}" y2="${y + 6}" stroke="${r.colour}" stroke-width="2"/>` +
        `<line x1="${scale(r.hi)}" x2="${scale(r.hi)}" y1="${y - 6}" y2="${y + 6}" stroke="${r.colour}" stroke-width="2"/>`;
    const ci = r.lo === null || r.hi === null ? "" : ` (${chart.format(r.lo)}–${chart.format(r.hi)})`;
    const text = `${chart.format(r.value)}${ci}${r.note ? ` · ${r.note}` : ""}`;
    return `<g data-arm="${esc(r.label)}" data-value="${r.value}">${label}${whisker}<circle cx="${scale(r.value)}" cy="${y}" r="5.5" fill="${r.colour}"/><text x="${W - RIGHT + 8}" y="${y + 4}" class="value">${esc(text)}</text></g>`;
  });
  const bound = chart.bound === undefined
    ? ""
    : `<line x1="${scale(chart.bound.value)}" x2="${scale(chart.bound.value)}" y1="28" y2="${bottom}" stroke="#c00" stroke-dasharray="4 3" data-bound="${chart.bound.value}"/><text x="${scale(chart.bound.value) + 4}" y="36" class="bound">${esc(chart.bound.label)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(chart.title)}" data-testid="${esc(chart.id)}">` +
    `<title>${esc(chart.title)}</title><text x="0" y="16" class="title">${esc(chart.title)}${s.log ? " · log scale" : ""}</text>` +
    `${axis(s, bottom, chart.format)}${bound}${rows.join("")}</svg>`;
}

/** One line of a time chart. */
export interface LineSeries {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly { readonly t: number; readonly y: number }[];
}

/** Cumulative counts over time, one line per arm. */
export function lineChart(id: string, title: string, series: readonly LineSeries[]): string {
  const height = 260;
  const [x0, x1, y0, y1] = [60, W - RIGHT, 30, height - 40];
  const times = series.flatMap((s) => s.points.map((p) => p.t));
  const tMin = Math.min(...times);
  const tMax = Math.max(...times);
  const yMax = niceMax(Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.y))));
  const sx = (t: number) => (tMax === tMin ? (x0 + x1) / 2 : x0 + ((t - tMin) / (tMax - tMin)) * (x1 - x0));
  const sy = (y: number) => y1 - (y / yMax) * (y1 - y0);
  const grid = [0, 0.5, 1].map((f) => `<line x1="${x0}" x2="${x1}" y1="${sy(f * yMax)}" y2="${sy(f * yMax)}" stroke="#e3e3e3"/><text x="${x0 - 6}" y="${sy(f * yMax) + 4}" text-anchor="end" class="tick">${f * yMax}</text>`).join("");
  const day = (t: number) => new Date(t).toISOString().slice(0, 16).replace("T", " ");
  const xLabels = times.length === 0 ? "" : `<text x="${x0}" y="${y1 + 18}" class="tick">${day(tMin)}</text><text x="${x1}" y="${y1 + 18}" text-anchor="end" class="tick">${day(tMax)}</text>`;
  const lines = series.map((s, i) => {
    const pts = s.points.map((p) => `${sx(p.t).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ");
    const last = s.points[s.points.length - 1];
    const dots = s.points.length === 1 && last !== undefined ? `<circle cx="${sx(last.t)}" cy="${sy(last.y)}" r="4" fill="${s.colour}"/>` : "";
    const legend = `<text x="${x1 + 10}" y="${y0 + 14 + i * 18}" class="label" fill="${s.colour}">${esc(s.label)} ${last?.y ?? 0}</text>`;
    return `<g data-series="${esc(s.label)}" data-last="${last?.y ?? 0}"><polyline points="${pts}" fill="none" stroke="${s.colour}" stroke-width="2.5"/>${dots}${legend}</g>`;
  });
  const empty = times.length === 0 ? `<text x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2}" text-anchor="middle" class="muted">no exposures yet</text>` : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${esc(title)}" data-testid="${esc(id)}">` +
    `<title>${esc(title)}</title><text x="0" y="16" class="title">${esc(title)}</text>${grid}${xLabels}${lines.join("")}${empty}</svg>`;
}
