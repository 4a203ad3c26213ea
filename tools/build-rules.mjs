// npm run build: compile rules/ into build/ruleset.json, which the Worker bundles.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(["rules", "build", ...process.argv.slice(2)]);
