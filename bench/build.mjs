// Bundles for the benchmark. riskgate is built exactly as it deploys (wrangler deploy
// --dry-run: rules build, then wrangler's esbuild); the baselines are bundled by the
// same esbuild version (wrangler's own dependency) with the settings wrangler uses for
// an ES module worker, so no worker gets a bundler advantage.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** wrangler deploy --dry-run into `dir`; returns the path of the bundled module. */
export function bundleRiskgate(dir) {
  const run = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", dir], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`wrangler dry-run failed:\n${run.stdout}${run.stderr}`);
  return join(dir, "index.js");
}

/** Bundle a baseline worker from bench/workers/; returns the path of the bundle. */
export async function bundleBaseline(name, dir) {
  const outfile = join(dir, `${name}.js`);
  await build({
    entryPoints: [join(ROOT, "bench", "workers", `${name}.ts`)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "error",
  });
  return outfile;
}
