/** Types for tools/demo-origin.mjs. */
export interface DemoOrigin {
  readonly url: string;
  readonly received: Array<Record<string, unknown>>;
  close(): Promise<void>;
}
export function startDemoOrigin(options?: {
  port?: number;
  jwks?: { keys: object[] };
  jwksUrl?: string;
  quiet?: boolean;
}): Promise<DemoOrigin>;
