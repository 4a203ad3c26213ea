// The benchmark bundles riskgate as it deploys (wrangler deploy --dry-run). Wrangler runs
// the [build] command in its working directory, and a deploy build (WRANGLER_COMMAND=deploy)
// writes build/geo.bin without local geo data. Run in the checkout, it replaced the full
// database that `npm test` and `npm start` bundle: while a benchmark ran beside them,
// requests had no geo, and verified outcomes taught history a device but no country or ASN
// (the intermittent `countries: []` of test/worker/outcomes.test.ts).
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundleRiskgate } from "../../bench/build.mjs";
import { loadLocalGeo } from "../../src/context/geo-local.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const scratch = mkdtempSync(join(tmpdir(), "riskgate-deploy-build-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the benchmark's deploy build", () => {
  it("runs the real deploy build outside the checkout, leaving the checkout's geo database whole", () => {
    // A checkout of its own (a copy of this one, with its built geo database), so that a
    // build in the wrong place damages only the copy.
    const checkout = join(scratch, "checkout");
    for (const entry of ["src", "rules", "tools", "build", "wrangler.toml", "package.json", "tsconfig.json"]) {
      cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, "node_modules"), join(checkout, "node_modules"), "dir");
    const before = readFileSync(join(checkout, "build", "geo.bin"));
    expect(loadLocalGeo(before).meta.level).not.toBe("none");

    // Wrangler's part that matters here: the [build] command, as a deploy runs it, in the
    // directory wrangler was started in. (Bundling itself is not needed to show where it wrote.)
    let builtIn = "";
    const wrangler = ((_cmd: string, _args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }) => {
      builtIn = options.cwd;
      return spawnSync("node", ["tools/build-rules.mjs"], {
        cwd: options.cwd,
        env: { ...options.env, WRANGLER_COMMAND: "deploy", RISKGATE_GEO_DATA: "" },
        encoding: "utf8",
      });
    }) as unknown as typeof spawnSync;
    bundleRiskgate(join(scratch, "bundle"), checkout, wrangler);

    // The checkout's database is the one it had...
    expect(loadLocalGeo(readFileSync(join(checkout, "build", "geo.bin"))).meta.level).not.toBe("none");
    expect(readFileSync(join(checkout, "build", "geo.bin")).equals(before)).toBe(true);
    // ...and the deploy build did run (it wrote a geo database without data where it ran).
    expect(builtIn).not.toBe("");
    expect(loadLocalGeo(readFileSync(join(builtIn, "build", "geo.bin"))).meta.level).toBe("none");
  }, 300_000);
});
