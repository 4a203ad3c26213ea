// Types for bench/build.mjs (used by test/unit/deploy-build.test.ts).
import type { spawnSync } from "node:child_process";
/** wrangler deploy --dry-run of the tree at `root` into `dir`, built in a scratch copy; returns the bundle's path. */
export function bundleRiskgate(dir: string, root?: string, run?: typeof spawnSync): string;
export function bundleBaseline(name: string, dir: string): Promise<string>;
export function bundleRiskgateAt(ref: string, dir: string): string;
