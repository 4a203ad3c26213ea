/**
 * Inline SVG charts, written for this dashboard: stacked bars over time and a
 * histogram. Every bar has a <title>, so hovering shows the exact numbers.
 */
import { clock, h, s } from "./dom.ts";

/** One named series and its colour. */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
}

const W = 720;
const H = 170;
/** Histograms sit in narrower panels: a smaller canvas keeps their labels legible. */
const HW = 400;
const LEFT = 36;
const BOTTOM = 18;

function yTicks(max: number, chart: SVGSVGElement, width = W): void {
  for (const frac of [0, 0.5, 1]) {
    const y = H - BOTTOM - frac * (H - BOTTOM - 8);
    chart.append(
      s("line", { class: "grid", x1: LEFT, x2: width, y1: y, y2: y }),
      s("text", { x: LEFT - 4, y: y + 3, "text-anchor": "end" }, Math.round(max * frac)),
    );
  }
}

/** Stacked bars: one bar per bucket, one segment per series. */
export function stackedBars(buckets: readonly number[], series: readonly Series[], label: string): HTMLElement {
  const chart = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
  const totals = buckets.map((_, i) => series.reduce((acc, x) => acc + (x.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  yTicks(max, chart);
  const slot = (W - LEFT) / Math.max(1, buckets.length);
  const scale = (H - BOTTOM - 8) / max;
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((minute, i) => {
    let y = H - BOTTOM;
    for (const x of series) {
      const v = x.values[i] ?? 0;
      if (v <= 0) continue;
      const height = v * scale;
      y -= height;
      chart.append(
        s("rect", { x: LEFT + i * slot + 1, y, width: Math.max(1, slot - 2), height, fill: x.color, "data-series": x.name },
          s("title", {}, `${clock(minute)} ${x.name}: ${v}`)),
      );
    }
    if (i % labelEvery === 0) {
      chart.append(s("text", { x: LEFT + i * slot + slot / 2, y: H - 4, "text-anchor": "middle" }, clock(minute)));
    }
  });
  return h("div", {}, chart, legend(series));
}

/** Colour keys under a chart, with totals. */
export function legend(series: readonly Series[]): HTMLElement {
  return h(
    "div",
    { class: "legend" },
    ...series.map((x) =>
      h("span", { "data-legend": x.name }, h("i", { style: `background:${x.color}` }), `${x.name} ${x.values.reduce((a, b) => a + b, 0)}`),
    ),
  );
}

/** Vertical bars for a distribution (e.g. score buckets). */
export function histogram(items: readonly { label: string; count: number }[], color: string, label: string): SVGSVGElement {
  const chart = s("svg", { class: "chart", viewBox: `0 0 ${HW} ${H}`, role: "img", "aria-label": label });
  const max = Math.max(1, ...items.map((i) => i.count));
  yTicks(max, chart, HW);
  const slot = (HW - LEFT) / Math.max(1, items.length);
  items.forEach((item, i) => {
    const height = (item.count / max) * (H - BOTTOM - 8);
    chart.append(
      s("rect", { x: LEFT + i * slot + 3, y: H - BOTTOM - height, width: slot - 6, height, fill: color },
        s("title", {}, `${item.label}: ${item.count}`)),
      s("text", { x: LEFT + i * slot + slot / 2, y: H - 4, "text-anchor": "middle" }, item.label),
    );
  });
  return chart;
}

/** Horizontal bars with labels and counts (e.g. top reasons). */
export function hbars(items: readonly { label: string; count: number }[]): HTMLElement {
  const max = Math.max(1, ...items.map((i) => i.count));
  return h(
    "div",
    {},
    ...items.map((item) =>
      h("div", { class: "hbar", "data-label": item.label },
        h("code", { title: item.label }, item.label),
        h("div", { class: "track" }, h("div", { class: "fill", style: `width:${(item.count / max) * 100}%` })),
        h("span", { class: "n" }, item.count)),
    ),
  );
}
