// A scratch copy of the project for a deploy build (`wrangler deploy --dry-run`). Wrangler
// runs the [build] command in its working directory, and a deploy build
// (WRANGLER_COMMAND=deploy) writes build/geo.bin without local geo data
// (src/cli/data/geo-build.ts). Run in the checkout, it replaced the full database that
// `npm test` and `npm start` bundle from build/, so requests while it was there had no geo
// (history taught without country or ASN). Built in the copy, the checkout's build/ is left alone.
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/** What a build reads from the project (build/ is its output and is not copied). */
const ENTRIES = ["src", "rules", "tools", "wrangler.toml", "package.json", "tsconfig.json"];

/**
 * Copy the project at `root` into `dir` (created) with `root`'s node_modules linked;
 * returns `dir`, the directory to run the build in.
 */
export function scratchProject(root, dir) {
  mkdirSync(dir, { recursive: true });
  for (const entry of ENTRIES) {
    if (existsSync(join(root, entry))) cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}
