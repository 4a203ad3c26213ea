// Builds the deployable bundle offline (wrangler deploy --dry-run) and prints its size,
// raw and gzip, against the Workers limits (3 MiB free / 10 MiB paid, compressed).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const out = mkdtempSync(join(tmpdir(), "riskgate-bundle-"));
const run = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out], {
  encoding: "utf8",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
if (run.status !== 0) {
  process.stderr.write(run.stdout + run.stderr);
  process.exit(run.status ?? 1);
}
// Every uploaded module counts: the script and the Data modules (build/*.bin: lists and
// local geo) that wrangler uploads beside it. Source maps and the README are not uploaded.
const files = readdirSync(out).filter((f) => !f.endsWith(".map") && f !== "README.md");
const modules = files.map((f) => readFileSync(join(out, f)));
const code = Buffer.concat(modules);
const gzip = modules.reduce((n, m) => n + gzipSync(m, { level: 9 }).length, 0);
rmSync(out, { recursive: true, force: true });
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(JSON.stringify({ bundle_bytes: code.length, bundle_gzip_bytes: gzip, raw: kib(code.length), gzip: kib(gzip), limit_free_gzip: "3 MiB" }));
