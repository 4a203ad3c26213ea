/**
 * Tiny DOM helpers for the dashboard: build elements from data without innerHTML, so
 * nothing from the API is ever parsed as markup.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(el: Element, attrs: Attrs, children: readonly Child[]): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    // CSP (style-src 'self') refuses style attributes but allows CSSOM writes.
    if (name === "style" && (el instanceof HTMLElement || el instanceof SVGElement)) el.style.cssText = String(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  fill(el, attrs, children);
  return el;
}

/** An SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  fill(el, attrs, children);
  return el;
}

/** A titled panel section. */
export function panel(id: string, title: string, span: number, ...children: Child[]): HTMLElement {
  return h("section", { class: `panel span-${span}`, "data-testid": id, id }, h("h2", {}, title), ...children);
}

/** `1234` → `1,234`; null → `—`. */
export function num(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A ratio as a percentage. */
export function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${num(value * 100, 1)}%`;
}

/** `HH:MM` of a timestamp, in the browser's zone. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** A coloured status or verdict pill. */
export function pill(kind: string): HTMLElement {
  return h("span", { class: `pill ${kind}` }, kind);
}

/** The message shown where a panel has no data yet. */
export function empty(text: string): HTMLElement {
  return h("p", { class: "empty" }, text);
}
