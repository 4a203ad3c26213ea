/** Types for tools/redis-bridge/bridge.mjs. */
export type FaultMode = "none" | "refuse" | "reset" | "hang" | "stall" | "error500" | "garbage";

export interface BridgeStats {
  readonly mode: FaultMode;
  readonly requests: number;
  readonly single: number;
  readonly pipeline: number;
  readonly multiExec: number;
  readonly commands: number;
  readonly connections: number;
  /** Connections reset on arrival in "reset" mode (no request was read from them). */
  readonly resets: number;
  /** Commands run, by lower-case name (EVALSHA, HGETALL, ...). */
  readonly byCommand: Readonly<Record<string, number>>;
}

export interface Bridge {
  readonly url: string;
  readonly controlUrl: string;
  readonly token: string;
  setFault(mode: FaultMode): Promise<void>;
  stats(tag?: string): BridgeStats;
  resetStats(): void;
  close(): Promise<void>;
}

export const FAULT_MODES: readonly FaultMode[];
export function startBridge(options: {
  redisPort: number;
  token: string;
  port?: number;
  controlPort?: number;
  hangLimitMs?: number;
  log?: (line: string) => void;
}): Promise<Bridge>;
