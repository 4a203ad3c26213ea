// What the numbers were measured on, recorded with every result.
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";

function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** Machine and toolchain facts. */
export function machineInfo({ nproc, workerdVersion, loadGenerator }) {
  return {
    nproc,
    cpu_model: cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: run("uname", ["-r"]),
    node: process.version,
    workerd: workerdVersion,
    load_generator: loadGenerator,
    // Other work on the machine shows here; rounds alternate so it spreads over all scenarios.
    loadavg_at_start: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}
