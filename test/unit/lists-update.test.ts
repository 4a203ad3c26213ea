// `riskgate lists update`, offline: fetch is injected and answers from fixtures or fails
// in each documented way; a failing source must leave its list untouched.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readLists } from "../../src/cli/data/lists-build.ts";
import { BEGIN, END, replaceBlock, type UpdateDeps, updateLists } from "../../src/cli/lists-update.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/lists");
const NOW = Date.parse("2026-06-01T00:00:00Z");

const SOURCES = `
tor-exits:
  - url: https://tor.example/torbulkexitlist
    format: plain
    reason: tor exit
    expires: 7d
known-bad:
  - url: https://drop.example/drop_v4.json
    format: spamhaus-json
    reason: drop
vpn:
  - url: https://vpn.example/ipv4.txt
    format: plain
`;

type Behaviour = "ok" | "500" | "timeout" | "garbage" | "huge";

/** Folders this file made; each test's are removed after it. */
const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function setup(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "riskgate-lists-"));
  made.push(dir);
  await writeFile(join(dir, "sources.yaml"), SOURCES);
  await writeFile(join(dir, "known-bad.txt"), `# mine\n192.0.2.250 # hand-written\n${BEGIN}\n10.9.9.9\n${END}\n# after\n`);
  return dir;
}

function deps(behaviour: Partial<Record<string, Behaviour>> = {}): UpdateDeps & { lines: string[] } {
  const lines: string[] = [];
  const files: Record<string, string> = {
    "https://tor.example/torbulkexitlist": "torbulkexitlist",
    "https://drop.example/drop_v4.json": "drop_v4.ndjson",
    "https://vpn.example/ipv4.txt": "vpn-ipv4.txt",
  };
  return {
    lines,
    now: () => NOW,
    log: (l) => lines.push(l),
    timeoutMs: 50,
    maxBytes: 10_000,
    async fetch(url, init) {
      switch (behaviour[url] ?? "ok") {
        case "500":
          return new Response("oops", { status: 500 });
        case "timeout":
          return new Promise((_, reject) => {
            init.signal?.addEventListener("abort", () => reject(init.signal?.reason));
          });
        case "garbage":
          return new Response("<html>rate limited</html>\n<p>try later</p>");
        case "huge":
          return new Response("x".repeat(20_000));
        default:
          return new Response(await readFile(join(FIXTURES, files[url] ?? "missing")));
      }
    },
  };
}

describe("riskgate lists update", () => {
  it("writes each list's generated block from its sources, keeping hand-written entries", async () => {
    const dir = await setup();
    const d = deps();
    expect(await updateLists(dir, d)).toBe(0);
    const tor = await readFile(join(dir, "tor-exits.txt"), "utf8");
    expect(tor).toContain("192.0.2.1 expires=2026-06-08T00:00:00Z # tor exit");
    expect(tor).toContain("2001:db8:7::1 expires=2026-06-08T00:00:00Z # tor exit");
    expect(tor.match(/192\.0\.2\.2 /g)).toHaveLength(1); // de-duplicated
    const bad = await readFile(join(dir, "known-bad.txt"), "utf8");
    expect(bad).toContain("192.0.2.250 # hand-written");
    expect(bad).toContain("198.51.100.0/24 # drop");
    expect(bad).toContain("# after");
    expect(bad).not.toContain("10.9.9.9"); // the previous generated block is replaced
    expect(await readFile(join(dir, "vpn.txt"), "utf8")).toContain("192.0.2.76/30");
    const { errors, lists } = await readLists(dir);
    expect(errors).toEqual([]); // what update writes, the build accepts
    expect(lists.find((l) => l.name === "tor_exits")?.entries).toHaveLength(3);
  });

  it.each([
    ["an HTTP error", "500", /HTTP 500/],
    ["a timeout", "timeout", /timed out after 50 ms/],
    ["an unexpected format", "garbage", /unexpected format/],
    ["an oversized body", "huge", /larger than/],
  ] as const)("%s leaves the list unchanged and exits 1", async (_name, behaviour, message) => {
    const dir = await setup();
    const before = await readFile(join(dir, "known-bad.txt"), "utf8");
    const d = deps({ "https://drop.example/drop_v4.json": behaviour });
    expect(await updateLists(dir, d)).toBe(1);
    expect(await readFile(join(dir, "known-bad.txt"), "utf8")).toBe(before);
    expect(d.lines.join("\n")).toMatch(message);
    // Other lists still update.
    expect(await readFile(join(dir, "tor-exits.txt"), "utf8")).toContain("192.0.2.1 ");
  });

  it("--only limits the update; an unknown name is a usage error", async () => {
    const dir = await setup();
    expect(await updateLists(dir, deps(), ["vpn"])).toBe(0);
    await expect(readFile(join(dir, "tor-exits.txt"), "utf8")).rejects.toThrow();
    expect(await updateLists(dir, deps(), ["nope"])).toBe(2);
  });

  it("never writes a range under `exclude:` (what the curated snapshot keeps out)", async () => {
    const dir = await setup();
    await writeFile(join(dir, "sources.yaml"), `${SOURCES}exclude:\n  - range: 192.0.2.64/26\n    reason: stands for Private Relay\n`);
    expect(await updateLists(dir, deps(), ["vpn"])).toBe(0);
    const vpn = await readFile(join(dir, "vpn.txt"), "utf8");
    expect(vpn).toContain("192.0.2.128/26");
    expect(vpn).not.toContain("192.0.2.76/30");
  });

  it("appends a block to a file that has none", () => {
    expect(replaceBlock("# header\n1.2.3.4\n", ["5.6.7.8"])).toBe(`# header\n1.2.3.4\n${BEGIN}\n5.6.7.8\n${END}\n`);
  });
});
