// npm test: every check a change must pass, in order, stopping at the first failure:
// build the rules, type-check (Worker, CLI, tests), lint, then every vitest project.
import { spawnSync } from "node:child_process";

const steps = [
  ["rules build", "node", ["tools/build-rules.mjs"]],
  ["dashboard build (type-checks the browser code)", "node", ["tools/build-dashboard.mjs"]],
  ["typecheck worker", "npx", ["tsc", "-p", "tsconfig.json"]],
  ["typecheck cli", "npx", ["tsc", "-p", "src/cli/tsconfig.json"]],
  ["typecheck worker tests", "npx", ["tsc", "-p", "test/tsconfig.json"]],
  ["typecheck node tests", "npx", ["tsc", "-p", "test/tsconfig.node.json"]],
  ["lint", "npx", ["biome", "lint"]],
  ["vitest", "npx", ["vitest", "run", ...process.argv.slice(2)]],
];

for (const [name, cmd, args] of steps) {
  console.log(`\n== ${name}`);
  const { status } = spawnSync(cmd, args, { stdio: "inherit" });
  if (status !== 0) {
    console.error(`\nnpm test: "${name}" failed`);
    process.exit(status ?? 1);
  }
}
