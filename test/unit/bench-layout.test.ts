// The benchmark hosts riskgate's Durable Objects as Cloudflare does: each in an isolate of
// its own, never in the worker's. With them in the worker's isolate, a saturated workerd
// took no new I/O until the load stopped: scenario (c)'s forwards all reached the origin
// after the round, each on a new TCP connection (BENCHMARKS.md, "Origin connections in
// (c): the shared isolate"; bench/conn-probe.mjs shows it). This checks the layout the
// default configuration gives workerd, from the capnp file the harness writes.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WORKERS } from "../../bench/scenarios.mjs";
import { writeConfig } from "../../bench/workerd.mjs";

const scratch = mkdtempSync(join(tmpdir(), "riskgate-bench-layout-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the benchmark's workerd layout", () => {
  it("hosts the store and the audit hub of every riskgate worker in services of their own by default", () => {
    // A stand-in bundle: writeConfig reads it only to see whether it exports the audit hub.
    const bundle = join(scratch, "index.js");
    writeFileSync(bundle, "export class RiskgateStore {}\nexport class RiskgateAuditHub {}\nexport default {};\n");
    const riskgate = WORKERS.filter((w) => w.build === "riskgate");
    expect(riskgate.map((w) => w.name).sort()).toEqual(["riskgate-do", "riskgate-upstash"]);
    const config = readFileSync(
      writeConfig(scratch, riskgate.map((w, i) => ({ ...w, bundle, port: 40_000 + i })), { originPort: 39_999, storageDir: join(scratch, "do") }),
      "utf8",
    );
    for (const { name } of riskgate) {
      // The worker's bindings name the classes through the services that host them...
      expect(config).toContain(`durableObjectNamespace = (className = "RiskgateStore", serviceName = "${name}-store")`);
      expect(config).toContain(`durableObjectNamespace = (className = "RiskgateAuditHub", serviceName = "${name}-audit")`);
      // ...and those services exist, apart from the worker's own.
      expect(config).toContain(`(name = "${name}-store", worker = `);
      expect(config).toContain(`(name = "${name}-audit", worker = `);
    }
    // The shared layout (BENCH_SPLIT_DO=0) would bind the class by name in the worker's own service.
    expect(config).not.toContain('durableObjectNamespace = "RiskgateStore"');
  });
});
