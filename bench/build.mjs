// Bundles for the benchmark. riskgate is built exactly as it deploys (wrangler deploy
// --dry-run: rules build, then wrangler's esbuild); the baselines are bundled by the
// same esbuild version (wrangler's own dependency) with the settings wrangler uses for
// an ES module worker, so no worker gets a bundler advantage.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { scratchProject } from "../tools/scratch-project.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * wrangler deploy --dry-run of the tree at `root` into `dir`; returns the bundle's path.
 * The deploy build runs in a scratch copy (`${dir}-project`, tools/scratch-project.mjs):
 * in `root` it would replace the full geo database in root's build/ with none while the
 * tests or npm start use it. `run` is spawnSync (a test passes its own).
 */
export function bundleRiskgate(dir, root = ROOT, run = spawnSync) {
  const rules = benchRules(root, `${dir}-rules`);
  const project = scratchProject(root, `${dir}-project`);
  const result = run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", dir], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...(rules === null ? {} : { RISKGATE_RULES_DIR: rules }) },
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`wrangler dry-run failed:\n${result.stdout}${result.stderr}`);
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

/**
 * The same for the committed tree at git `ref` (BENCH_COMPARE), exported with git archive
 * into `dir` (the repository is not touched) and built with this checkout's node_modules.
 */
export function bundleRiskgateAt(ref, dir) {
  const tree = join(dir, "tree");
  mkdirSync(tree, { recursive: true });
  const archive = execFileSync("git", ["archive", "--format=tar", ref], { cwd: ROOT, maxBuffer: 256 * 2 ** 20 });
  execFileSync("tar", ["-x", "-C", tree], { input: archive });
  symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
  return bundleRiskgate(join(dir, "bundle"), tree);
}

/**
 * The shipped rules with only the site-wide surge thresholds raised. They are sized for
 * production peaks (a CAPTCHA for everyone above 1000 resets a minute, VELOCITY_GLOBAL
 * above 1000); the closed-loop benchmark sends tens of thousands a minute, which would
 * (correctly) challenge every request and leave no allow path to measure. Everything
 * else is exactly as shipped. Returns null for trees whose rules lack these lines.
 */
function benchRules(root, target) {
  const policy = join(root, "rules", "policy.yaml");
  const rules = join(root, "rules", "rules.yaml");
  if (!existsSync(policy) || !existsSync(rules)) return null;
  cpSync(join(root, "rules"), target, { recursive: true });
  const raise = (file, from, to) => {
    const text = readFileSync(file, "utf8");
    if (!text.includes(from)) return false;
    writeFileSync(file, text.replace(from, to));
    return true;
  };
  const a = raise(join(target, "policy.yaml"), "{ action: captcha, limit: 1000, window: 1m }", "{ action: captcha, limit: 10000000, window: 1m }");
  const b = raise(join(target, "rules.yaml"), "velocity.global_1m > 1000", "velocity.global_1m > 10000000");
  return a || b ? target : null;
}
