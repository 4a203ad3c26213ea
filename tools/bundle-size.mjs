// npm run bundle-size: builds the deployable bundle offline (wrangler deploy --dry-run) and
// prints its size, raw and gzip, against the Workers limits (3 MiB free / 10 MiB paid,
// compressed). The deploy build (WRANGLER_COMMAND=deploy: no local geo data unless
// RISKGATE_GEO_DATA says so) runs in a scratch copy of the project, so this checkout's
// build/ (the full geo database npm start uses) is left alone.
// --json prints one JSON line instead of the table.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { scratchProject } from "./scratch-project.mjs";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const scratch = mkdtempSync(join(tmpdir(), "riskgate-bundle-"));
const project = join(scratch, "project");
const out = join(scratch, "out");
try {
  scratchProject(root, project);
  const run = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_SEND_METRICS: "false" },
  });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    process.exitCode = run.status ?? 1;
  } else {
    report(out);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function report(dir) {
  // Every uploaded module counts: the script and the Data modules (build/*.bin: lists and
  // local geo) that wrangler uploads beside it. Source maps and the README are not uploaded.
  const files = readdirSync(dir).filter((f) => !f.endsWith(".map") && f !== "README.md").sort();
  const modules = files.map((f) => ({ name: f, bytes: readFileSync(join(dir, f)) }));
  const sizes = modules.map((m) => ({ name: m.name, raw: m.bytes.length, gzip: gzipSync(m.bytes, { level: 9 }).length }));
  const raw = sizes.reduce((n, m) => n + m.raw, 0);
  const gzip = sizes.reduce((n, m) => n + m.gzip, 0);
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify({ bundle_bytes: raw, bundle_gzip_bytes: gzip, raw: kib(raw), gzip: kib(gzip), limit_free_gzip: "3 MiB" }));
    return;
  }
  for (const m of sizes) console.log(`  ${m.name.padEnd(40)} ${kib(m.raw).padStart(12)} ${kib(m.gzip).padStart(12)} gzip`);
  console.log(`bundle: ${kib(raw)}, ${kib(gzip)} gzip (Workers limit: 3 MiB gzip on the free plan, 10 MiB paid)`);
}
