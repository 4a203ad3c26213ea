// npm test: every check a change must pass, in order, stopping at the first failure:
// build the rules, type-check (Worker, CLI, tests), lint, the layer rules, then every vitest project.
// Vitest runs against a throwaway redis-server (loopback, free port, no persistence)
// started here and stopped afterwards; without redis-server the Upstash tests are
// skipped with a loud warning, and under CI=true that is a failure.
import { spawnSync } from "node:child_process";
import { findRedisServer, startRedisServer } from "./redis-bridge/redis-server.mjs";

const steps = [
  ["rules build", "node", ["tools/build-rules.mjs"]],
  ["dashboard build (type-checks the browser code)", "node", ["tools/build-dashboard.mjs"]],
  ["typecheck worker", "npx", ["tsc", "-p", "tsconfig.json"]],
  ["typecheck cli", "npx", ["tsc", "-p", "src/cli/tsconfig.json"]],
  ["typecheck worker tests", "npx", ["tsc", "-p", "test/tsconfig.json"]],
  ["typecheck node tests", "npx", ["tsc", "-p", "test/tsconfig.node.json"]],
  ["lint", "npx", ["biome", "lint"]],
  ["layers (no import cycles; each folder imports only the layers below it: .dependency-cruiser.cjs)", "npx", ["depcruise", "src", "-c", ".dependency-cruiser.cjs", "--ignore-known", "-T", "err"]],
  ["vitest", "npx", ["vitest", "run", ...process.argv.slice(2)]],
];

const MISSING = `
!!! ================================================================================ !!!
!!! redis-server is not installed: the Upstash adapter, bridge, fault and privacy   !!!
!!! tests will be SKIPPED. Install it (Debian: apt-get install redis-server).       !!!
!!! ================================================================================ !!!
`;

/** Start redis-server for the vitest step; null (after saying so loudly) when there is none. */
async function redis() {
  if (findRedisServer() === null) {
    console.error(MISSING);
    if (process.env.CI === "true") {
      console.error("npm test: CI=true and redis-server is missing: failing instead of skipping");
      process.exit(1);
    }
    return null;
  }
  const server = await startRedisServer();
  console.log(`(redis-server for tests on 127.0.0.1:${server.port}, data in ${server.dir})`);
  return server;
}

function run(name, cmd, args, env = process.env) {
  console.log(`\n== ${name}`);
  const { status } = spawnSync(cmd, args, { stdio: "inherit", env });
  if (status !== 0) console.error(`\nnpm test: "${name}" failed`);
  return status ?? 1;
}

for (const [name, cmd, args] of steps.slice(0, -1)) {
  const status = run(name, cmd, args);
  if (status !== 0) process.exit(status);
}

const [name, cmd, args] = steps[steps.length - 1];
const server = await redis();
const env = server === null ? process.env : { ...process.env, RISKGATE_TEST_REDIS_PORT: String(server.port) };
let status = 1;
try {
  status = run(name, cmd, args, env);
} finally {
  await server?.stop();
}
if (server === null) console.error(MISSING);
process.exit(status);
