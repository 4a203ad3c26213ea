/** Types for tools/turnstile-standin/server.mjs. */
export interface StandinCall {
  readonly response: string | null;
  readonly remoteip: string | null;
  readonly idempotency_key: string | null;
  /** `success`, the error codes joined by commas, or the fault played. */
  readonly outcome: string;
}
export interface MintOptions {
  sitekey: string;
  action?: string;
  cdata?: string;
  hostname?: string;
  /** When the token was solved (epoch ms); default now. */
  ts?: number;
  fault?: "internal-error-once" | "hang" | "http500" | "garbage";
}
export interface TurnstileStandin {
  readonly url: string;
  readonly siteverifyUrl: string;
  readonly scriptUrl: string;
  readonly calls: StandinCall[];
  mint(options: MintOptions): string | null;
  close(): Promise<void>;
}
export function startTurnstileStandin(options?: {
  port?: number;
  sites?: { siteKey: string; secret: string }[];
  hangLimitMs?: number;
  log?: (line: string) => void;
}): Promise<TurnstileStandin>;
