// npm run build (second half): type-check and compile the dashboard's browser code
// (src/admin/dashboard/client/*.ts, strict TS with the DOM library) and its stylesheet
// into build/dashboard.json, which the Worker bundles. No CDN and no bundler: the
// browser loads the compiled ES modules from /__riskgate/assets/.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, resolve, sep } from "node:path";
import ts from "typescript";
import { devBuildIsCurrent, recordStamp } from "./build-stamp.mjs";

// tools/build-rules.mjs said "up to date" already.
if (devBuildIsCurrent()) process.exit(0);

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const configPath = resolve(root, "src/admin/dashboard/tsconfig.json");
const clientDir = `${sep}src${sep}admin${sep}dashboard${sep}client${sep}`;

const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) };
const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, host);
if (config === undefined) process.exit(1);
const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
const diagnostics = ts.getPreEmitDiagnostics(program);
if (diagnostics.length > 0) fail(diagnostics);

const files = {};
// Only the client's own modules are served; type-only imports emit nothing useful.
const emitted = program.emit(undefined, (fileName, text) => {
  if (fileName.includes(clientDir) && fileName.endsWith(".js")) files[basename(fileName)] = text;
});
if (emitted.diagnostics.length > 0) fail(emitted.diagnostics);
files["style.css"] = readFileSync(resolve(root, "src/admin/dashboard/style.css"), "utf8");

const hash = createHash("sha256");
for (const name of Object.keys(files).sort()) hash.update(name).update(files[name]);
const out = resolve(root, "build/dashboard.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ version: hash.digest("hex").slice(0, 12), files })}\n`);
console.log(`dashboard: ${Object.keys(files).length} assets -> build/dashboard.json`);
// The whole build (rules, data, dashboard) is complete: record its inputs.
recordStamp();

function fail(list) {
  const text = ts.formatDiagnostics(list, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  });
  process.stderr.write(text);
  process.exit(1);
}
