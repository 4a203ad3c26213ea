// Types for tools/eval/population.mjs (used by test/unit/eval-harness.test.ts).
import type { Tools } from "./core.mjs";
export interface Browser {
  kind: string;
  mobile: boolean;
  ua: string;
  hints: Record<string, string>;
}
export const BROWSERS: [string, number][];
export function browser(t: Tools, kind?: string): Browser;
export function browserHeaders(b: Browser, lang: string, options?: { form?: boolean }): Record<string, string>;
export function language(t: Tools, country: string): string;
export function networkNeeds(): { asn: number; country: string }[];
export const CONSUMER_VPN: [number, number, string][];
export const PRIVATE_RELAY: [number, number, string][];
export const TRAVEL_DESTINATIONS: Record<string, number>;
