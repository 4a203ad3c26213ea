// npm run build: compile rules/ into build/ruleset.json, which the Worker bundles.
import { register } from "tsx/esm/api";
import { clearStamp, devBuildIsCurrent } from "./build-stamp.mjs";

// Under wrangler dev, skip a build whose inputs have not changed (tools/build-stamp.mjs).
if (devBuildIsCurrent()) {
  console.log("build: up to date");
  process.exit(0);
}
clearStamp();

register();
const { main } = await import("../src/cli/main.ts");
// RISKGATE_RULES_DIR builds another rules directory (the benchmark uses it); default rules/.
const dir = process.env.RISKGATE_RULES_DIR ? ["--dir", process.env.RISKGATE_RULES_DIR] : [];
process.exitCode = await main(["rules", "build", ...dir, ...process.argv.slice(2)]);
// Then the reputation lists and local geo data (build/lists.bin, build/geo.bin).
if (process.exitCode === 0) process.exitCode = await (await import("../src/cli/data/build.ts")).buildDataFromEnv();
