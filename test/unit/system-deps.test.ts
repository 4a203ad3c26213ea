// tools/system-deps.mjs, the step of `npm test` that brings redis-server and Chromium to a
// fresh machine: its plan for machines that lack them, checked with --json (nothing is
// installed or removed) by pointing PATH at directories that hold only what each case
// needs, and RISKGATE_DEPS_ROOT pretending to be root or not.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A directory holding a do-nothing executable for each name. */
function binDir(...names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "riskgate-deps-test-"));
  dirs.push(dir);
  for (const name of names) {
    writeFileSync(join(dir, name), "#!/bin/sh\nexit 0\n");
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

interface Plan {
  redis: { from: string; path?: string };
  chromium: { from: string; path?: string; package?: string };
  commands: { cmd: string; args: string[] }[];
}

function plan(path: string, root: boolean, extra: Record<string, string> = {}): Plan {
  const env: Record<string, string> = { PATH: path, RISKGATE_DEPS_ROOT: root ? "1" : "0", ...extra };
  const out = spawnSync(process.execPath, ["tools/system-deps.mjs", "--json"], { env, encoding: "utf8" });
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as Plan;
}

const line = (c: { cmd: string; args: string[] }) => [c.cmd, ...c.args].join(" ");

describe("npm test's system dependencies", () => {
  it("uses the system's redis-server and Chromium when they are on PATH, and runs nothing", () => {
    const dir = binDir("redis-server", "chromium", "apt-get");
    const p = plan(dir, true);
    expect(p.redis).toEqual({ from: "system", path: join(dir, "redis-server") });
    expect(p.chromium).toEqual({ from: "system", path: join(dir, "chromium") });
    expect(p.commands).toEqual([]);
  });

  it("as root with apt-get: apt-get update first, then one install of both", () => {
    const dir = binDir("apt-get");
    const p = plan(dir, true);
    expect(p.commands.map(line)).toEqual([
      `${join(dir, "apt-get")} update -qq`,
      `${join(dir, "apt-get")} install -y -qq --no-install-recommends redis-server chromium`,
    ]);
    expect(p.redis.from).toBe("apt-get");
    expect(p.chromium.from).toBe("apt-get");
  });

  it("installs only what is missing (google-chrome counts as Chromium)", () => {
    const dir = binDir("apt-get", "google-chrome");
    const p = plan(dir, true);
    expect(p.commands.map(line).at(-1)).toBe(`${join(dir, "apt-get")} install -y -qq --no-install-recommends redis-server`);
    expect(p.chromium).toEqual({ from: "system", path: join(dir, "google-chrome") });
  });

  it("without root (or without apt-get): Chromium from the npm package, redis-server reported missing", () => {
    for (const p of [plan(binDir("apt-get"), false), plan(binDir(), true)]) {
      expect(p.redis.from).toBe("missing");
      expect(p.chromium.from).toBe("npm");
      expect(p.chromium.package).toMatch(/^@sparticuz\/chromium@/);
      expect(p.commands.some((c) => c.cmd.startsWith("apt-get") || c.cmd.endsWith("/apt-get"))).toBe(false);
    }
  });

  it("CHROMIUM_PATH names the browser: a missing one is reported, never replaced", () => {
    const p = plan(binDir("apt-get", "redis-server"), true, { CHROMIUM_PATH: "/nonexistent/chrome" });
    expect(p.chromium.from).toBe("missing");
    expect(p.commands).toEqual([]);
  });
});
