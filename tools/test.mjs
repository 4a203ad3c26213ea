// npm test: every check a change must pass, in order, stopping at the first failure:
// build the rules, type-check (Worker, CLI, tests), lint, the layer rules, then every vitest project.
// Before vitest, tools/system-deps.mjs brings redis-server and Chromium: the system's
// when present, else installed (root with apt-get; Chromium also from the npm package
// @sparticuz/chromium), and it says what it did. Vitest runs against a throwaway
// redis-server (loopback, free port, no persistence) started here and stopped
// afterwards; without redis-server the Upstash tests are skipped with a loud warning,
// and under CI=true that is a failure (likewise Chromium and the browser suites).
//
// The output is quiet by default (vitest.config.ts: a test's logs are printed only when
// it fails; RISKGATE_TEST_VERBOSE=1 prints them all), and it ends with a summary: which
// step failed and, for vitest, every failing test with the first line of its error.
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { stripVTControlCharacters } from "node:util";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { startRedisServer } from "./redis-bridge/redis-server.mjs";
import { ensureSystemDeps } from "./system-deps.mjs";

const report = mkdtempSync(join(tmpdir(), "riskgate-test-report-"));
const reportFile = join(report, "vitest.json");

const steps = [
  ["rules build", "node", ["tools/build-rules.mjs"]],
  ["dashboard build (type-checks the browser code)", "node", ["tools/build-dashboard.mjs"]],
  ["typecheck worker", "npx", ["tsc", "-p", "tsconfig.json"]],
  ["typecheck cli", "npx", ["tsc", "-p", "src/cli/tsconfig.json"]],
  ["typecheck worker tests", "npx", ["tsc", "-p", "test/tsconfig.json"]],
  ["typecheck node tests", "npx", ["tsc", "-p", "test/tsconfig.node.json"]],
  ["lint", "npx", ["biome", "lint"]],
  ["layers (no import cycles; each folder imports only the layers below it: .dependency-cruiser.cjs)", "npx", ["depcruise", "src", "-c", ".dependency-cruiser.cjs", "-T", "err"]],
  // The JSON report feeds the summary at the end; the default reporter is what you read.
  ["vitest", "npx", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${reportFile}`, ...process.argv.slice(2)]],
];

const MISSING = `
!!! ================================================================================ !!!
!!! redis-server is not installed: the Upstash adapter, bridge, fault and privacy   !!!
!!! tests will be SKIPPED. Install it (Debian: apt-get install redis-server).       !!!
!!! ================================================================================ !!!
`;

/** Start redis-server for the vitest step; null (after saying so loudly) when there is none. */
async function redis(binary) {
  if (binary === null) {
    console.error(MISSING);
    if (process.env.CI === "true") {
      console.error("npm test: CI=true and redis-server is missing: failing instead of skipping");
      finish(1, "redis-server", "redis-server is missing and CI=true");
    }
    return null;
  }
  const server = await startRedisServer({ binary });
  console.log(`(redis-server for tests on 127.0.0.1:${server.port}, data in ${server.dir})`);
  return server;
}

function run(name, cmd, args, env = process.env) {
  console.log(`\n== ${name}`);
  const { status } = spawnSync(cmd, args, { stdio: "inherit", env });
  if (status !== 0) console.error(`\nnpm test: "${name}" failed`);
  return status ?? 1;
}

// What workerd itself prints when a test makes a connection fail on purpose (an origin
// on a closed port, the fault bridge refusing or resetting) and when vitest closes a
// test file's runner socket. The gateway handles each of those failures (the tests
// assert the error codes); workerd still logs its own stack for them, which says
// nothing about the code under test. Hidden unless RISKGATE_TEST_VERBOSE=1.
const RUNTIME_NOISE = [
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected$/,
  /^exception = kj\/async-io-unix\.c\+\+:\d+: disconnected: (connect\(\)|::read\(.*\)): Connection (refused|reset by peer)$/,
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: Network connection lost\.$/,
  /^uncaught exception; exception = \S+: disconnected: jsg\.Error: Network connection lost\.$/,
];
/** A `stack:` line of workerd addresses belongs to the noise line before it. */
const RUNTIME_STACK = /^stack: (\S*workerd@[0-9a-f]+ ?)+$/;
const VERBOSE = process.env.RISKGATE_TEST_VERBOSE === "1";
let hidden = 0;

/** Run vitest with workerd's noise filtered out of its output (see RUNTIME_NOISE). */
function runFiltered(name, cmd, args, env) {
  if (VERBOSE) return Promise.resolve(run(name, cmd, args, env));
  console.log(`\n== ${name}`);
  // Colours as if vitest wrote to this terminal itself.
  const color = process.stdout.isTTY && env.NO_COLOR === undefined ? { FORCE_COLOR: env.FORCE_COLOR ?? "1" } : {};
  const child = spawn(cmd, args, { stdio: ["inherit", "pipe", "pipe"], env: { ...env, ...color } });
  const pass = (input, output) => {
    let afterNoise = false;
    createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
      const plain = stripVTControlCharacters(line);
      if (RUNTIME_NOISE.some((re) => re.test(plain)) || (afterNoise && RUNTIME_STACK.test(plain))) {
        hidden++;
        afterNoise = true;
        return;
      }
      afterNoise = false;
      output.write(`${line}\n`);
    });
  };
  pass(child.stdout, process.stdout);
  pass(child.stderr, process.stderr);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      if (code !== 0) console.error(`\nnpm test: "${name}" failed`);
      resolve(code ?? 1);
    });
  });
}

/** The failing tests (and files that failed outside any test) in vitest's JSON report. */
function failures() {
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(reportFile, "utf8"));
  } catch {
    return null;
  }
  const firstLine = (messages) => String(messages?.[0] ?? "").split("\n").find((l) => l.trim() !== "") ?? "";
  const out = [];
  for (const file of parsed.testResults ?? []) {
    const path = relative(process.cwd(), file.name);
    const failed = (file.assertionResults ?? []).filter((t) => t.status === "failed");
    for (const t of failed) out.push({ where: `${path} > ${t.fullName}`, why: firstLine(t.failureMessages) });
    // A failing hook or import fails the file with no failing test to show for it.
    if (file.status === "failed" && failed.length === 0) out.push({ where: path, why: firstLine([file.message]) });
  }
  return { failures: out, total: parsed.numTotalTests ?? 0, passed: parsed.numPassedTests ?? 0, skipped: (parsed.numPendingTests ?? 0) + (parsed.numTodoTests ?? 0) };
}

/** Print the summary and exit: the last thing on the screen is what went wrong, if anything. */
function finish(status, failedStep, detail = "") {
  const result = failedStep === "vitest" || status === 0 ? failures() : null;
  rmSync(report, { recursive: true, force: true });
  console.log("\n== summary");
  if (hidden > 0) console.log(`(${hidden} lines of workerd's own connection logs hidden; RISKGATE_TEST_VERBOSE=1 shows them)`);
  if (status === 0) {
    const counts = result === null ? "" : `: ${result.passed} tests passed, ${result.skipped} skipped`;
    console.log(`npm test: every step passed${counts}`);
    process.exit(0);
  }
  console.error(`npm test: FAILED at step "${failedStep}"${detail === "" ? "" : ` (${detail})`}; the steps after it did not run`);
  if (failedStep === "vitest") {
    if (result === null) {
      console.error("  (vitest wrote no report: it failed before running tests; see its output above)");
    } else {
      console.error(`  ${result.failures.length} failing (of ${result.total} tests; ${result.passed} passed):`);
      for (const f of result.failures) console.error(`  ✗ ${f.where}\n      ${f.why}`);
    }
  }
  process.exit(status === 0 ? 1 : status);
}

for (const [name, cmd, args] of steps.slice(0, -1)) {
  const status = run(name, cmd, args);
  if (status !== 0) finish(status, name, `exit ${status}`);
}

const [name, cmd, args] = steps[steps.length - 1];
console.log("\n== system dependencies (redis-server, Chromium)");
const deps = await ensureSystemDeps();
const server = await redis(deps.redis);
const env = {
  ...process.env,
  ...(server === null ? {} : { RISKGATE_TEST_REDIS_PORT: String(server.port) }),
  ...(deps.chromium === null ? {} : { CHROMIUM_PATH: deps.chromium }),
};
let status = 1;
try {
  status = await runFiltered(name, cmd, args, env);
} finally {
  await server?.stop();
}
if (server === null) console.error(MISSING);
finish(status, name, `exit ${status}`);
