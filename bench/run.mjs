// npm run bench: every benchmark under bench/, in turn; the last line is one JSON object
// merging their results. (Gateway throughput against a bare pass-through is issue 9's.)
import { spawnSync } from "node:child_process";

const benches = [
  ["signals", ["bench/signals.mjs", "--json"]],
  ["lists", ["bench/lists.mjs", "--json"]],
];
const summary = {};
for (const [name, args] of benches) {
  const run = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (run.status !== 0) {
    console.error(`bench ${name} failed`);
    process.exit(run.status ?? 1);
  }
  const last = run.stdout.trim().split("\n").at(-1) ?? "{}";
  console.log(`${name}: ${last}`);
  for (const [k, v] of Object.entries(JSON.parse(last))) summary[`${name}_${k}`] = v;
}
console.log(JSON.stringify(summary));
