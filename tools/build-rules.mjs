// npm run build: compile rules/ into build/ruleset.json, which the Worker bundles.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(["rules", "build", ...process.argv.slice(2)]);
// Then the reputation lists and local geo data (build/lists.bin, build/geo.bin).
if (process.exitCode === 0) process.exitCode = await (await import("../src/cli/data/build.ts")).buildDataFromEnv();
