/** Types for tools/traffic.mjs. */
export interface TrafficOptions {
  readonly gateway: string;
  readonly origin: string;
  readonly users: number;
  readonly seed: number;
  readonly concurrency: number;
  readonly experiment: string;
  readonly token: string;
  readonly quiet: boolean;
}
export interface TrafficState {
  /** Counts by "<phase> <status>" and "<phase> <tier>[ -> <arm> (<channel>)]". */
  readonly seen: Map<string, number>;
  readonly reports: number;
  readonly counted: number;
}
export function runTraffic(options: TrafficOptions): Promise<TrafficState>;
