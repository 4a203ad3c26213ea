/** Types for tools/gateway.mjs. */
export function freePort(): Promise<number>;
export interface RunningGateway {
  readonly url: string;
  stop(): Promise<void>;
  readonly exited: Promise<number | null>;
}
export function startGateway(options: {
  port: number;
  vars?: Record<string, string>;
  envFile?: string;
  inspectorPort?: number;
  persistTo?: string;
  onOutput?: (chunk: string) => void;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
  /** wrangler dev --test-scheduled: `GET /__scheduled` runs the Cron Trigger. */
  testScheduled?: boolean;
}): Promise<RunningGateway>;
