// Types for tools/traffic-model.mjs (used by TypeScript tests).
export interface Device {
  readonly userAgent: string;
  readonly acceptLanguage: string;
  /** Chromium's low-entropy client hints (empty for Safari and Firefox). */
  readonly hints: Readonly<Record<string, string>>;
}
export interface User {
  readonly email: string;
  readonly home: string;
  readonly homeIp: string;
  readonly device: Device;
}
export type Kind = "home" | "travel" | "proxy" | "attack";
export interface PlannedReset {
  readonly at: number;
  readonly kind: Kind;
  readonly user: User;
  readonly ip: string;
  readonly device: Device;
  readonly country: string;
  readonly newDevice: boolean;
}
export interface PlannedOutcome {
  readonly event: "sent" | "verified" | "completed" | "abandoned" | "fraud_reported";
  readonly after: number;
}
export const HOME_NETWORKS: Readonly<Record<string, readonly string[]>>;
export const CLOUD_NETWORKS: Readonly<Record<string, readonly string[]>>;
export const HOME_SHARES: Readonly<Record<string, number>>;
export const CHANNEL_BEHAVIOUR: Readonly<Record<string, { complete: number; resend: number; byCountry?: Record<string, number> }>>;
export const ATTACKER_CONTROL: Readonly<Record<string, number>>;
export const FRAUD_REPORTED: number;
export function rng(seed: number): () => number;
export function addressIn(random: () => number, networks: Readonly<Record<string, readonly string[]>>, country: string): string;
export function browser(random: () => number, country: string): Device;
export function population(options: { seed: number; users: number; domain?: string; shares?: Readonly<Record<string, number>> }): User[];
export function plan(options: { seed: number; users: readonly User[]; start: number; days?: number; perUser?: number; mix?: Partial<Record<Kind, number>>; nearby?: Readonly<Record<string, readonly string[]>> | null }): PlannedReset[];
export function outcomes(random: () => number, decision: { channel: string; country: string; attacker: boolean }): PlannedOutcome[];
