// The decision-data loop in-process: `decisions export` against a local HTTP server that
// speaks the admin API's paged export (checking the token and the cursor the CLI sends),
// `rules explain` with the recorded rate-limit steps and the recorded verdict, and
// `rules replay --outcomes` joining fraud reports and completed resets by decision id.
// test/worker/decisions-export.test.ts exports from the real gateway inside workerd.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import { type Io, processIo as real } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import type { Facts } from "../../src/scoring/rules/context-schema.ts";
import { facts } from "./support/rulesets.ts";

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    lines: real.lines,
    env: (name) => env[name],
  };
  return { code: await main(args, io), out, err };
}

const tmp = mkdtempSync(join(tmpdir(), "riskgate-decisions-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The shipped live rules, with a candidate that makes headless browsers critical (deny). */
function rulesWithCandidate(): string {
  const dir = join(tmp, "rules");
  cpSync("rules", dir, { recursive: true, filter: (src) => relative("rules", src).split(sep)[0] !== "candidate" });
  mkdirSync(join(dir, "candidate"), { recursive: true });
  const live = readFileSync("rules/rules.yaml", "utf8");
  const harder = live.replace("    weight: 40\n    reason: UA_HEADLESS", "    weight: 100\n    reason: UA_HEADLESS");
  expect(harder).not.toBe(live);
  writeFileSync(join(dir, "candidate", "rules.yaml"), harder);
  return dir;
}
const dir = rulesWithCandidate();

/** A decision log line as the gateway writes it (the fields replay and explain read). */
function decision(id: string, f: Facts, recorded: Record<string, unknown>): Record<string, unknown> {
  return { type: "riskgate.decision", id, account: "AAAAAAAAAAAAAAAAAAAAAA", errors: [], rate_limits: [], captcha: null, facts: f, ...recorded };
}
const outcome = (id: string, event: string) => ({ type: "riskgate.outcome", ts: "2027-01-01T00:00:00.000Z", decision: id, event, account: "AAAAAAAAAAAAAAAAAAAAAA" });
const IP_CAPTCHA = [{ name: "ip", step: "captcha", waived: false, level: 0 }];
const HEADLESS = facts({ device: { headless: true } });

describe("rules explain with a recorded decision", () => {
  it("shows the IP ladder's CAPTCHA step and agrees with the recorded challenge", async () => {
    const path = join(tmp, "ip-challenged.json");
    writeFileSync(path, JSON.stringify(decision("d-ip", facts(), { verdict: "challenge", tier: "low", rate_limits: IP_CAPTCHA })));
    const r = await run(["rules", "explain", path, "--dir", dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("rules verdict allow, channel email_link");
    expect(r.out).toMatch(/^ {2}ip +key ip +captcha >10\/10m, 429 >20\/1m; box 1m ×2 up to 1h, -1 level per 1h; unless device\.key_strength .+ {2}→ captcha \(403 challenge\)$/m);
    expect(r.out).toMatch(/^ {2}subnet +key subnet .* {2}→ allow$/m);
    expect(r.out).toContain("verdict challenge, channel email_link, captcha asked, not solved, rate limit captcha (403 challenge)");
    expect(r.out).toContain("reasons: RATE_LIMIT_CHALLENGE");
    expect(r.out).toContain("recorded challenge/low: agrees");
  });

  it("a CAPTCHA solved with a pass lifts the ladder's challenge", async () => {
    const path = join(tmp, "ip-passed.json");
    writeFileSync(path, JSON.stringify(decision("d-pass", facts(), { verdict: "allow", tier: "low", rate_limits: IP_CAPTCHA, captcha: { status: "passed", via: "pass" } })));
    const r = await run(["rules", "explain", path, "--dir", dir, "--json"]);
    const parsed = JSON.parse(r.out) as { live: { final: { verdict: string; captchaAsked: boolean } }; recorded: { agrees: boolean } };
    expect(parsed.live.final).toMatchObject({ verdict: "allow", captchaAsked: true });
    expect(parsed.recorded.agrees).toBe(true);
  });

  it("names the difference when the recorded verdict is not what the rules and ladders give", async () => {
    const path = join(tmp, "differs.json");
    writeFileSync(path, JSON.stringify(decision("d-x", facts(), { verdict: "allow", tier: "low", rate_limits: [{ name: "ip", step: "block", waived: false, level: 1 }] })));
    const r = await run(["rules", "explain", path, "--dir", dir]);
    expect(r.out).toMatch(/→ 429 \(Retry-After\), penalty level 1$/m);
    expect(r.out).toContain("recorded allow/low, recomputed deny/low: DIFFERS");
  });

  it("bare facts say the ladder steps are not recorded and make no comparison", async () => {
    const path = join(tmp, "bare.json");
    writeFileSync(path, JSON.stringify(facts()));
    const r = await run(["rules", "explain", path, "--dir", dir]);
    expect(r.out).toContain("rate limits (steps not recorded in this input");
    expect(r.out).not.toMatch(/^recorded /m);
  });

  it("a malformed rate_limits entry is a usage error", async () => {
    const path = join(tmp, "bad-ladder.json");
    writeFileSync(path, JSON.stringify(decision("d-bad", facts(), { rate_limits: [{ name: "ip", step: "slow" }] })));
    expect((await run(["rules", "explain", path, "--dir", dir])).code).toBe(2);
  });
});

describe("rules replay --outcomes", () => {
  // Live: headless is medium (allow); the candidate denies it (critical).
  const lines = [
    decision("fraud-headless", HEADLESS, { verdict: "allow", tier: "medium" }),
    decision("fraud-ordinary", facts(), { verdict: "allow", tier: "low" }),
    decision("fraud-ip", facts(), { verdict: "challenge", tier: "low", rate_limits: IP_CAPTCHA }),
    decision("done-headless", HEADLESS, { verdict: "allow", tier: "medium" }),
    decision("done-ordinary", facts(), { verdict: "allow", tier: "low" }),
    decision("done-pass", facts(), { verdict: "allow", tier: "low", rate_limits: IP_CAPTCHA, captcha: { status: "passed", via: "token" } }),
    decision("no-outcome", HEADLESS, { verdict: "allow", tier: "medium" }),
  ];
  const outcomes = [
    outcome("fraud-headless", "sent"),
    outcome("fraud-headless", "completed"),
    outcome("fraud-headless", "fraud_reported"),
    outcome("fraud-ordinary", "fraud_reported"),
    outcome("fraud-ip", "fraud_reported"),
    outcome("done-headless", "completed"),
    outcome("done-ordinary", "completed"),
    outcome("done-pass", "completed"),
    outcome("unknown-decision", "fraud_reported"),
  ];
  const log = join(tmp, "joined.jsonl");
  const outFile = join(tmp, "outcomes.jsonl");
  writeFileSync(log, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
  writeFileSync(outFile, `${outcomes.map((l) => JSON.stringify(l)).join("\n")}\n`);

  it("counts fraud the candidate catches and friction it adds to people who completed", async () => {
    const r = await run(["rules", "replay", log, "--dir", dir, "--candidate", join(dir, "candidate"), "--outcomes", outFile]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("replayed 7 decisions");
    // The ladder's challenge is part of the recomputed verdict: nothing differs from what was recorded.
    expect(r.out).not.toContain("note: the live rules decide");
    expect(r.out).toContain("outcomes joined by decision id: 3 fraud_reported, 3 completed");
    // fraud-ip was stopped by the IP ladder under both; fraud-headless is newly denied.
    expect(r.out).toContain("fraud_reported stopped (deny or challenge): live 1/3 (33.33%) → candidate 2/3 (66.67%); caught 1 more, let 0 through that live stopped");
    // done-pass solved the ladder's CAPTCHA under both; done-headless is newly denied.
    expect(r.out).toContain("completed given friction (CAPTCHA, challenge or deny): live 1/3 (33.33%) → candidate 2/3 (66.67%); added to 1, removed from 0");
    expect(r.err).toContain("replay: 9 outcome lines");
  });

  it("--json carries the join; without --outcomes there is none", async () => {
    const r = await run(["rules", "replay", log, "--dir", dir, "--candidate", join(dir, "candidate"), "--outcomes", outFile, "--json", "--quiet"]);
    const report = JSON.parse(r.out) as { outcomes: { fraud_reported: { total: number; gained: number; live: { stopped: number } }; completed: { gained: number } } };
    expect(report.outcomes.fraud_reported).toMatchObject({ total: 3, gained: 1, live: { stopped: 1 } });
    expect(report.outcomes.completed.gained).toBe(1);
    const plain = await run(["rules", "replay", log, "--dir", dir, "--candidate", join(dir, "candidate"), "--json", "--quiet"]);
    expect((JSON.parse(plain.out) as { outcomes: unknown }).outcomes).toBeNull();
  });

  it("an unreadable outcomes file is a usage error", async () => {
    expect((await run(["rules", "replay", log, "--dir", dir, "--candidate", join(dir, "candidate"), "--outcomes", join(tmp, "nope.jsonl")])).code).toBe(2);
  });
});

describe("decisions export", () => {
  // Two pages of what GET /__riskgate/api/decisions/export answers.
  const page1 = [decision("e1", HEADLESS, { verdict: "allow", tier: "medium" }), outcome("e1", "fraud_reported"), decision("e2", facts(), { verdict: "challenge", tier: "low", rate_limits: IP_CAPTCHA })];
  const page2 = [decision("e3", HEADLESS, { verdict: "allow", tier: "medium" }), outcome("e3", "completed")];
  const seen: { path: string; auth: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    seen.push({ path: `${url.pathname}${url.search}`, auth: req.headers.authorization ?? "" });
    res.setHeader("content-type", "application/json");
    if (req.headers.authorization !== `Bearer ${DEV_ADMIN_TOKEN}` && req.headers.authorization !== `Bearer ${"t".repeat(40)}`) {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: { code: "ERR_UNAUTHORIZED", message: "no" } }));
      return;
    }
    const second = url.searchParams.get("cursor") === "1700000000000.3";
    res.end(JSON.stringify(second ? { lines: page2, next: null } : { lines: page1, next: "1700000000000.3" }));
  });
  let base = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("pages through the admin API with the dev token on loopback, writes replay's format, and replays", async () => {
    const out = join(tmp, "export.jsonl");
    const r = await run(["decisions", "export", "--url", base, "--since", "2h", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`exported 3 decisions and 2 outcomes to ${out}`);
    expect(seen.map((s) => s.auth)).toEqual([`Bearer ${DEV_ADMIN_TOKEN}`, `Bearer ${DEV_ADMIN_TOKEN}`]);
    expect(seen[0]?.path).toMatch(/^\/__riskgate\/api\/decisions\/export\?since=\d+&limit=500$/);
    const since = Number(new URL(`http://x${seen[0]?.path}`).searchParams.get("since"));
    expect(Date.now() - since).toBeGreaterThanOrEqual(2 * 3_600_000);
    expect(Date.now() - since).toBeLessThan(3 * 3_600_000);
    expect(seen[1]?.path).toContain("cursor=1700000000000.3");
    const written = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string });
    expect(written).toEqual([...page1, ...page2]);

    const replayed = await run(["rules", "replay", out, "--dir", dir, "--candidate", join(dir, "candidate"), "--outcomes", out, "--quiet"]);
    expect(replayed.code).toBe(0);
    expect(replayed.out).toContain("replayed 3 decisions");
    expect(replayed.out).toContain("skipped: 2 other log lines");
    expect(replayed.out).toContain("outcomes joined by decision id: 1 fraud_reported, 1 completed");
    expect(replayed.out).toContain("caught 1 more");
  });

  it("--limit stops after N decisions; stdout without --out; RISKGATE_ADMIN_TOKEN off loopback", async () => {
    seen.length = 0;
    const r = await run(["decisions", "export", "--limit", "2"], { RISKGATE_URL: base, RISKGATE_ADMIN_TOKEN: "t".repeat(40) });
    expect(r.code).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toContain("limit=2");
    expect(r.out.trim().split("\n").map((l) => (JSON.parse(l) as { id?: string }).id ?? "outcome")).toEqual(["e1", "outcome", "e2"]);
  });

  it("refuses bad flags, needs a token off loopback, and names an unreachable or refusing gateway", async () => {
    expect((await run(["decisions", "export", "--url", base, "--since", "yesterday"])).code).toBe(2);
    expect((await run(["decisions", "export", "--url", base, "--limit", "0"])).code).toBe(2);
    expect((await run(["decisions", "list", "--url", base])).code).toBe(2);
    expect((await run(["decisions", "export", "--url", "https://gateway.example"])).code).toBe(2);
    const refused = await run(["decisions", "export", "--url", base], { RISKGATE_ADMIN_TOKEN: "wrong" });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("answered 401 ERR_UNAUTHORIZED");
    const closed = await run(["decisions", "export", "--url", "http://127.0.0.1:1"]);
    expect(closed.code).toBe(1);
    expect(closed.err).toContain("is the gateway running?");
  });

  it("--help names the command", async () => {
    const r = await run(["decisions", "export", "--help"]);
    expect(r.out).toContain("decisions export [--since 24h|<iso time>] [--limit N] [--out decisions.jsonl] [--url u]");
  });
});
