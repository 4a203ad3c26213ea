/** Types for tools/demo-origin.mjs. */
export interface DemoOrigin {
  readonly url: string;
  readonly received: Array<Record<string, unknown>>;
  /** Accounts (lower-case email) the origin answers slower for, in ms: a test affordance. */
  readonly slowAccounts: Map<string, number>;
  close(): Promise<void>;
}
export function startDemoOrigin(options?: {
  port?: number;
  jwks?: { keys: object[] };
  jwksUrl?: string;
  gatewayUrl?: string;
  quiet?: boolean;
}): Promise<DemoOrigin>;
/** The development origin key that signs outcome reports (private JWK). */
export const DEV_OUTCOME_KEY: Record<string, string>;
/** Sign an outcome report as an origin does. */
export function signOutcome(report: {
  event: string;
  decisionToken: string;
  decisionId: string;
  eventId?: string;
  key?: object;
  /** Optional send details: channel, cost, country (docs/experiments.md). */
  extra?: Record<string, unknown>;
}): Promise<string>;
/** Sign an account roster statement as an origin does (POST /v1/accounts). */
export function signAccounts(statement: { add?: string[]; remove?: string[]; loaded?: boolean; key?: object }): Promise<string>;
/** Publish accounts in batches, then turn the roster on (unless `loaded` is false). */
export function publishAccounts(gatewayUrl: string, emails: string[], options?: { loaded?: boolean; batch?: number }): Promise<unknown>;
