// What the vitest step needs besides node_modules: redis-server (the Upstash adapter,
// bridge, fault and privacy suites) and Chromium (the browser suites). `npm test` calls
// ensureSystemDeps() before vitest, so a fresh machine needs nothing but the README's two
// commands. For each, in order:
//   1. the system's: redis-server on PATH; Chromium at CHROMIUM_PATH, or chromium /
//      chromium-browser / google-chrome(-stable) on PATH;
//   2. as root with apt-get (containers, CI): `apt-get update`, then one
//      `apt-get install -y --no-install-recommends` of whatever is missing;
//   3. Chromium only: @sparticuz/chromium from the npm registry, a Chromium build shipped
//      inside the package (no download at run time; it works offline once installed, on
//      Node 20), installed into node_modules/.cache/riskgate-chromium, not the project's
//      dependencies. There is no npm package that ships a redis-server binary
//      (redis-memory-server downloads and compiles redis when first run), so without
//      root and apt-get redis-server stays missing and its suites are skipped (CI=true:
//      failed) with a message saying how to install it.
// It says plainly what it found and what it ran. `node tools/system-deps.mjs --dry-run`
// prints the plan and runs nothing (RISKGATE_DEPS_ROOT=0|1 pretends to be or not be root).
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { brotliDecompressSync } from "node:zlib";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the registry Chromium is installed (outside the project's own dependencies). */
export const CHROMIUM_CACHE = join(ROOT, "node_modules", ".cache", "riskgate-chromium");
/** The newest @sparticuz/chromium whose engines allow Node 20 (package.json: >=20.19). */
export const SPARTICUZ = "@sparticuz/chromium@137.0.1";
const CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"];

/** An executable named `name` on `path`, or null. */
export function onPath(name, path = process.env.PATH ?? "") {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function systemChromium(env) {
  if (env.CHROMIUM_PATH !== undefined && env.CHROMIUM_PATH !== "") return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  for (const name of CHROMIUM_NAMES) {
    const found = onPath(name, env.PATH);
    if (found !== null) return found;
  }
  return null;
}

const sparticuzInstalled = () => existsSync(join(CHROMIUM_CACHE, "node_modules", "@sparticuz", "chromium", "package.json"));

/**
 * The plan for this machine: what is there, and the commands that would bring the rest.
 * @param {{ env?: NodeJS.ProcessEnv, root?: boolean }} [options]
 */
export function planSystemDeps({ env = process.env, root = rootFrom(env) } = {}) {
  const redis = onPath("redis-server", env.PATH);
  const chromium = systemChromium(env);
  const apt = root ? onPath("apt-get", env.PATH) : null;
  const commands = [];
  const missingApt = [];
  if (redis === null && apt !== null) missingApt.push("redis-server");
  // CHROMIUM_PATH names a browser on purpose: a missing one is reported, not replaced.
  const chromiumPinned = env.CHROMIUM_PATH !== undefined && env.CHROMIUM_PATH !== "";
  if (chromium === null && !chromiumPinned && apt !== null) missingApt.push("chromium");
  if (missingApt.length > 0) {
    commands.push({ why: `install ${missingApt.join(" and ")}`, cmd: apt, args: ["update", "-qq"] });
    commands.push({ why: `install ${missingApt.join(" and ")}`, cmd: apt, args: ["install", "-y", "-qq", "--no-install-recommends", ...missingApt], env: { DEBIAN_FRONTEND: "noninteractive" } });
  }
  const sparticuz = chromium === null && !chromiumPinned && apt === null;
  if (sparticuz && !sparticuzInstalled()) {
    commands.push({
      why: "install Chromium from the npm registry (a build shipped inside the package)",
      cmd: "npm",
      args: ["install", "--prefix", CHROMIUM_CACHE, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", SPARTICUZ],
    });
  }
  return {
    redis: redis === null ? (missingApt.includes("redis-server") ? { from: "apt-get" } : { from: "missing" }) : { from: "system", path: redis },
    chromium:
      chromium !== null
        ? { from: "system", path: chromium }
        : missingApt.includes("chromium")
          ? { from: "apt-get" }
          : sparticuz
            ? { from: "npm", package: SPARTICUZ }
            : { from: "missing" },
    root,
    commands,
  };
}

function rootFrom(env) {
  if (env.RISKGATE_DEPS_ROOT === "1") return true;
  if (env.RISKGATE_DEPS_ROOT === "0") return false;
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Unpack the registry Chromium (into the OS temp dir) and return a path to launch. */
async function sparticuzChromium() {
  const mod = await import(pathToFileURL(join(CHROMIUM_CACHE, "node_modules", "@sparticuz", "chromium", "build", "index.js")).href);
  const binary = await mod.default.executablePath();
  // Built for Amazon Linux: where this machine lacks a library it needs, use the ones
  // the package ships (only then: they would otherwise shadow the system's).
  const ldd = spawnSync("ldd", [binary], { encoding: "utf8" });
  if (ldd.status === 0 && !/not found/.test(ldd.stdout)) return binary;
  const libs = join(CHROMIUM_CACHE, "al2023");
  if (!existsSync(join(libs, "lib"))) {
    mkdirSync(libs, { recursive: true });
    const pack = join(CHROMIUM_CACHE, "node_modules", "@sparticuz", "chromium", "bin", "al2023.tar.br");
    const { status } = spawnSync("tar", ["-x", "-C", libs], { input: brotliDecompressSync(readFileSync(pack)), stdio: ["pipe", "inherit", "inherit"] });
    if (status !== 0) return binary;
  }
  const wrapper = join(CHROMIUM_CACHE, "chromium.sh");
  writeFileSync(wrapper, `#!/bin/sh\nLD_LIBRARY_PATH="${join(libs, "lib")}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "${binary}" "$@"\n`, { mode: 0o755 });
  return wrapper;
}

/**
 * Bring redis-server and Chromium (see the top of this file); report what was done.
 * @returns {Promise<{ redis: string | null, chromium: string | null, lines: string[] }>}
 */
export async function ensureSystemDeps({ dryRun = false, log = console.log } = {}) {
  const plan = planSystemDeps();
  for (const c of plan.commands) {
    const line = `${c.cmd} ${c.args.join(" ")}`;
    if (dryRun) {
      log(`system deps: would run (${c.why}): ${line}`);
      continue;
    }
    log(`system deps: running (${c.why}): ${line}`);
    const { status } = spawnSync(c.cmd, c.args, { stdio: "inherit", env: { ...process.env, ...(c.env ?? {}) } });
    if (status !== 0) log(`system deps: "${line}" failed (exit ${status}); going on without it`);
  }
  const after = dryRun ? plan : planSystemDeps();
  const redis = after.redis.from === "system" ? after.redis.path : null;
  let chromium = after.chromium.from === "system" ? after.chromium.path : null;
  if (chromium === null && after.chromium.from === "npm" && !dryRun && sparticuzInstalled()) {
    try {
      chromium = await sparticuzChromium();
    } catch (err) {
      log(`system deps: the registry Chromium did not unpack: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const how = (what, before, path) =>
    path !== null
      ? `${what} ${path} (${before.from === "system" ? "already installed" : before.from === "apt-get" ? "installed now with apt-get" : `from the npm package ${SPARTICUZ}`})`
      : dryRun && before.from !== "missing"
        ? `${what} would come from ${before.from === "npm" ? `the npm package ${SPARTICUZ}` : before.from}`
        : `${what} MISSING`;
  const lines = [how("redis-server", plan.redis, redis), how("chromium", plan.chromium, chromium)];
  log(`system deps: ${lines.join("; ")}`);
  if (redis === null && !dryRun) {
    log("system deps: no redis-server, and none can be installed here (needs root and apt-get; no npm package ships the binary). Debian: apt-get install redis-server");
  }
  return { redis, chromium, lines };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dryRun = process.argv.includes("--dry-run");
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(planSystemDeps()));
  } else {
    const { redis, chromium } = await ensureSystemDeps({ dryRun });
    if (!dryRun && (redis === null || chromium === null)) process.exitCode = 1;
  }
}
