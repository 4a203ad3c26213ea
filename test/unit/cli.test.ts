// The riskgate command end to end (in-process, with captured output): exit codes and
// messages for CI, explain, replay on a generated log, and account keys.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { type Io, processIo as real } from "../../src/cli/io.ts";
import { createHasher } from "../../src/context/hmac.ts";
import { ORDINARY, facts } from "./support/rulesets.ts";

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(args: string[], stdin: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  let out = "";
  let err = "";
  const io: Io = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    lines: (path) => (path === "-" ? (async function* () { yield* stdin; })() : real.lines(path)),
    env: (name) => env[name],
  };
  const code = await main(args, io);
  return { code, out, err };
}

const tmp = mkdtempSync(join(tmpdir(), "riskgate-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A copy of the shipped live rules with an empty candidate folder: whatever someone has
 * put in rules/candidate/ (docs/rules.md says to put a candidate there) stays out.
 */
function liveRules(name: string): string {
  const dir = join(tmp, name);
  cpSync("rules", dir, { recursive: true, filter: (src) => relative("rules", src).split(sep)[0] !== "candidate" });
  mkdirSync(join(dir, "candidate"), { recursive: true });
  return dir;
}

/** The live rules' copy, made once: for commands that read the rules and write nothing. */
let shipped: string | undefined;
const shippedRules = (): string => {
  shipped ??= liveRules("shipped");
  return shipped;
};

/** A candidate folder with no rule files in it. */
const EMPTY_CANDIDATE = join(tmp, "empty-candidate");
mkdirSync(EMPTY_CANDIDATE);

/** A copy of the shipped rules with a candidate that makes headless browsers critical. */
function rulesCopy(name: string): string {
  const dir = liveRules(name);
  const live = readFileSync("rules/rules.yaml", "utf8");
  const harder = live.replace("    weight: 40\n    reason: UA_HEADLESS", "    weight: 100\n    reason: UA_HEADLESS");
  expect(harder).not.toBe(live);
  writeFileSync(join(dir, "candidate", "rules.yaml"), harder);
  return dir;
}

describe("exit codes and messages", () => {
  it("check: 0 and a summary for the shipped rules", async () => {
    const dir = shippedRules();
    const r = await run(["rules", "check", "--dir", dir]);
    expect(r.code).toBe(0);
    // The summary names the folder it checked.
    expect(r.out.startsWith(`${dir}: `)).toBe(true);
    expect(r.out.slice(dir.length)).toMatch(/^: \d+ rules, \d+ overrides, 4 tiers, 6 channels: ok\n$/);
  });

  it("check: 1 and file:line:col for a broken rule, in the candidate too", async () => {
    const dir = rulesCopy("broken");
    writeFileSync(join(dir, "candidate", "extra.yaml"), "rules:\n  - id: typo\n    when: velocity.acount_1h > 3\n    weight: 5\n    reason: VELOCITY_ACCOUNT\n");
    const r = await run(["rules", "check", "--dir", dir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, "candidate", "extra.yaml")}:3:20: No such key: acount_1h\n`);
  });

  it.each([
    [[], "no command"],
    [["rules"], 'unknown command "rules"'],
    [["rules", "frob"], 'unknown command "rules frob"'],
    [["rules", "check", "--nope"], "Unknown option '--nope'"],
    [["rules", "check", "extra"], 'unexpected argument "extra"'],
    [["rules", "explain"], "rules explain needs a file argument"],
    [["rules", "replay", "x.jsonl"], "rules replay needs --candidate <dir>"],
    [["rules", "replay", "/nonexistent.jsonl", "--candidate", EMPTY_CANDIDATE], `no candidate rule files in ${EMPTY_CANDIDATE}`],
    [["account-key"], "set ACCOUNT_HMAC_SECRET"],
  ])("usage error %j exits 2", async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain("usage: riskgate");
  });

  it("build: writes the candidate artefact, or null without one", async () => {
    const dir = rulesCopy("build");
    const out = join(tmp, "out");
    const r = await run(["rules", "build", "--dir", dir, "--out", join(out, "a.json"), "--candidate-out", join(out, "c.json")]);
    expect(r.code).toBe(0);
    const candidate = JSON.parse(readFileSync(join(out, "c.json"), "utf8")) as { version: string; spec: { rules: { id: string; weight: number }[] } };
    expect(candidate.spec.rules.find((x) => x.id === "ua-headless")?.weight).toBe(100);
    const none = await run(["rules", "build", "--dir", shippedRules(), "--out", join(out, "b.json"), "--candidate-out", join(out, "n.json")]);
    expect(none.code).toBe(0);
    expect(readFileSync(join(out, "n.json"), "utf8")).toBe("null\n");
  });

  it("test: 0 for the shipped fixtures, 1 with a failing case", async () => {
    expect((await run(["rules", "test", "--dir", shippedRules()])).code).toBe(0);
    const dir = rulesCopy("failing");
    writeFileSync(join(dir, "tests", "z.yaml"), "cases:\n  - name: wrong\n    rule: ua-headless\n    match: true\n    facts: { device: { headless: true, ua_length: 90 }, geo: { country: US } }\n    expect: { tier: high }\n");
    const r = await run(["rules", "test", "--dir", dir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`FAIL ${join(dir, "tests", "z.yaml")}:2:5: wrong\n       expected tier high, got medium\n`);
  });

  it("test: a broken candidate does not block testing the live rules", async () => {
    const dir = rulesCopy("broken-candidate");
    writeFileSync(join(dir, "candidate", "rules.yaml"), "rules: [\n");
    expect((await run(["rules", "test", "--dir", dir])).code).toBe(0);
    expect((await run(["rules", "check", "--dir", dir])).code).toBe(1);
  });

  it("test --candidate: runs the fixtures against the candidate", async () => {
    const r = await run(["rules", "test", "--dir", rulesCopy("cand-test"), "--candidate", join(tmp, "cand-test", "candidate")]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("expected tier medium, got critical");
  });

  it("test --candidate: a new rule with a declared reason is tested by the candidate's own fixtures", async () => {
    const dir = liveRules("cand-new-rule");
    const candidate = join(dir, "candidate");
    writeFileSync(join(candidate, "reasons.yaml"), "reasons:\n  RECENT_RESET_FROM_HOSTING: A reset from a hosting network for an account asked for within the hour.\n");
    writeFileSync(join(candidate, "hosting.yaml"), "rules:\n  - id: recent-reset-from-hosting\n    when: ip.hosting && velocity.account_1h > 1 && !account.has_history\n    weight: 15\n    reason: RECENT_RESET_FROM_HOSTING\n");
    // Without fixtures of its own the new rule has no cases: the run fails, pointing at the candidate's tests folder.
    const bare = await run(["rules", "test", "--dir", dir, "--candidate", candidate]);
    expect(bare.code).toBe(1);
    expect(bare.err).toContain(`${join(candidate, "hosting.yaml")}:2:9: "recent-reset-from-hosting" has no matching test case (add one under ${join(candidate, "tests")}/`);
    mkdirSync(join(candidate, "tests"));
    writeFileSync(
      join(candidate, "tests", "hosting.yaml"),
      [
        "base:",
        "  ip: { known: true, version: 4 }",
        "  budget: { sms_otp: 0 }",
        "  device: { ua_length: 111, browser: Chrome }",
        "  geo: { known: true, country: US, asn: 14061 }",
        "cases:",
        "  - name: a second reset within the hour from a hosting network",
        "    rule: recent-reset-from-hosting",
        "    match: true",
        "    facts: { ip: { hosting: true, lists: [hosting] }, velocity: { account_1h: 2 } }",
        // SMS is never offered from a hosting network (rules/policy.yaml).
        "    expect: { tier: medium, score: 40, reasons: [IP_HOSTING_ASN, RECENT_RESET_FROM_HOSTING, CHANNEL_CONDITION_UNMET] }",
        "  - name: the first reset from a hosting network",
        "    rule: recent-reset-from-hosting",
        "    match: false",
        "    facts: { ip: { hosting: true, lists: [hosting] }, velocity: { account_1h: 1 } }",
        "    expect: { tier: low, score: 25, reasons: [IP_HOSTING_ASN] }",
        "",
      ].join("\n"),
    );
    const r = await run(["rules", "test", "--dir", dir, "--candidate", candidate]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const shippedCases = (await run(["rules", "test", "--dir", dir])).out.match(/^(\d+) cases/)?.[1];
    // The shipped fixtures plus the candidate's two.
    expect(r.out).toBe(`${Number(shippedCases) + 2} cases in ${join(dir, "tests")} + ${join(candidate, "tests")}: ${Number(shippedCases) + 2} passed, 0 failed, 0 fixture or coverage error(s)\n`);
    // The live rules neither have the rule nor run the candidate's fixtures.
    expect((await run(["rules", "test", "--dir", dir])).code).toBe(0);
  });

  it("test --candidate: a candidate fixture file replaces the shipped file of the same name", async () => {
    const dir = rulesCopy("cand-own-expectations");
    const candidate = join(dir, "candidate");
    const device = readFileSync(join(dir, "tests", "device.yaml"), "utf8");
    expect((await run(["rules", "test", "--dir", dir, "--candidate", candidate])).err).toContain(`FAIL ${join(dir, "tests", "device.yaml")}:46:5: HeadlessChrome`);
    // The candidate makes headless browsers critical (rulesCopy): its copy of device.yaml expects that.
    const changed = device
      .replace("expect: { tier: medium, verdict: allow, score: 40, reasons: [UA_HEADLESS] }", "expect: { tier: critical, verdict: deny, score: 100, reasons: [UA_HEADLESS] }")
      .replace("expect: { tier: critical, verdict: deny, score: 150,", "expect: { tier: critical, verdict: deny, score: 210,");
    expect(changed).not.toBe(device);
    mkdirSync(join(candidate, "tests"));
    writeFileSync(join(candidate, "tests", "device.yaml"), changed);
    const r = await run(["rules", "test", "--dir", dir, "--candidate", candidate]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("explain", () => {
  it("breaks a decision log line down rule by rule, live and candidate", async () => {
    const dir = rulesCopy("explain");
    const path = join(tmp, "request.json");
    writeFileSync(path, JSON.stringify({ type: "riskgate.decision", account: "x", facts: facts({ device: { headless: true }, geo: { new_country: true } }), errors: [] }));
    const r = await run(["rules", "explain", path, "--dir", dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}ua-headless +40 {2}yes {6}\+40$/m);
    expect(r.out).toMatch(/^ {2}geo-new-country +20 {2}yes {6}\+20$/m);
    expect(r.out).toMatch(/^ {2}device-known +-20 {2}no$/m);
    expect(r.out).toMatch(/^ {2}!deny-reserved-asn +0 {2}no$/m);
    expect(r.out).toContain("score 60 → tier high   [low ≥0, medium ≥30, high ≥60 ←, critical ≥100]");
    // geo-new-country reads history: it raises the tier told to the origin, not the client's verdict.
    expect(r.out).toContain("candidate changes allow/high → deny/critical");
  });

  it("--json and bare facts", async () => {
    const path = join(tmp, "facts.json");
    writeFileSync(path, JSON.stringify(ORDINARY));
    const r = await run(["rules", "explain", path, "--json", "--dir", shippedRules()]);
    const parsed = JSON.parse(r.out) as { live: { outcome: { tier: string; channel: string } }; candidate: null };
    expect(parsed.live.outcome).toMatchObject({ tier: "low", channel: "email_link" });
    expect(parsed.candidate).toBeNull();
  });

  it.each([
    ["malformed JSON", "{nope"],
    ["not an object", "[1]"],
    ["an unknown failed dependency", JSON.stringify({ facts: {}, failures: ["database"] })],
  ])("%s is a usage error", async (_name, text) => {
    const path = join(tmp, "bad.json");
    writeFileSync(path, text);
    expect((await run(["rules", "explain", path, "--dir", shippedRules()])).code).toBe(2);
  });

  it("a store failure in the input applies the store fail mode", async () => {
    const path = join(tmp, "failed.json");
    writeFileSync(path, JSON.stringify({ facts: ORDINARY, failures: ["store"] }));
    const r = await run(["rules", "explain", path, "--dir", shippedRules()]);
    expect(r.out).toContain("verdict challenge, channel email_link");
    expect(r.out).toContain("error: store GIVEN → fail mode challenge");
  });
});

describe("replay", () => {
  /** 1,000 decisions: every 10th from a headless browser; plus lines replay must skip. */
  function writeLog(): string {
    const path = join(tmp, "decisions.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const f = facts({ device: { headless: i % 10 === 0 } });
      const [verdict, tier] = i % 10 === 0 ? ["allow", "medium"] : ["allow", "low"];
      lines.push(JSON.stringify({ type: "riskgate.decision", id: `d${i}`, verdict, tier, account: "k", errors: [], facts: f }));
    }
    lines.splice(500, 0, "{not json", JSON.stringify({ type: "riskgate.error" }), JSON.stringify({ type: "riskgate.decision", verdict: "allow" }), "");
    writeFileSync(path, `${lines.join("\n")}\n`);
    return path;
  }

  it("counts changed verdicts and tiers, per rule, with samples", async () => {
    const dir = rulesCopy("replay");
    const r = await run(["rules", "replay", writeLog(), "--dir", dir, "--candidate", join(dir, "candidate"), "--samples", "2"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("replayed 1,000 decisions");
    expect(r.out).toContain("skipped: 1 other log lines, 1 decisions without facts, 1 malformed at lines 501");
    expect(r.out).toContain("verdict changed: 100 (10.00%)   (allow → deny 100)");
    expect(r.out).toContain("tier changed:    100 (10.00%)   (medium → critical 100)");
    expect(r.out).toMatch(/^ {2}ua-headless +100 +100 +0 +0 +100$/m);
    expect(r.out).toContain("line 1 (d0): rules ua-headless");
    expect(r.out).toContain("    live      allow/medium score 40 [UA_HEADLESS]");
    expect(r.out).toContain("    candidate deny/critical score 100 [UA_HEADLESS]");
    expect(r.out.match(/^ {2}line /gm)).toHaveLength(2);
    expect(r.out).not.toContain("note: the live rules decide");
    expect(r.err).toMatch(/replay: done, 1,004 lines in [\d.]+ s, \d+ MiB peak RSS/);
  });

  it("--json, and --fail-on-change exits 1 when anything changes", async () => {
    const dir = join(tmp, "replay");
    const r = await run(["rules", "replay", join(tmp, "decisions.jsonl"), "--dir", dir, "--candidate", join(dir, "candidate"), "--json", "--quiet", "--fail-on-change"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { decisions: number; verdictChanged: number; rules: { id: string; changed: number }[] };
    expect(report.decisions).toBe(1000);
    expect(report.verdictChanged).toBe(100);
    expect(report.rules.find((x) => x.id === "ua-headless")?.changed).toBe(100);
  });

  it("a candidate identical to live changes nothing", async () => {
    const dir = rulesCopy("same");
    cpSync("rules/rules.yaml", join(dir, "candidate", "rules.yaml"));
    const r = await run(["rules", "replay", join(tmp, "decisions.jsonl"), "--dir", dir, "--candidate", join(dir, "candidate"), "--quiet", "--fail-on-change"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("verdict changed: 0 (0.00%)");
  });
});

describe("account-key", () => {
  it("prints the key the gateway computes for each identifier on stdin", async () => {
    const secret = "a-test-secret-that-is-long-enough-000";
    const r = await run(["account-key"], ["  Alice@Example.com ", "", "bob@example.com"], { ACCOUNT_HMAC_SECRET: secret });
    const hasher = await createHasher(secret);
    expect(r.out).toBe(`${await hasher.hash("account", "alice@example.com")}\n${await hasher.hash("account", "bob@example.com")}\n`);
  });
});
