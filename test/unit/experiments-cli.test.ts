// `riskgate experiments list|report` in-process: offline from exported tally rows, and
// from a gateway's JSON endpoint (a local HTTP server standing in for the admin API,
// checking the bearer token the CLI sends). Also the HTML page's structure.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Io, processIo as real } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import type { CompiledExperiment } from "../../src/scoring/experiments/compile.ts";
import { reportPage } from "../../src/scoring/experiments/render-html.ts";
import { buildReport } from "../../src/scoring/experiments/report.ts";
import { exposureUpdate, outcomeCounters } from "../../src/scoring/experiments/tallies.ts";
import type { TallyRow, TallyUpdate } from "../../src/store/port.ts";
import { parseTallyField, tallyFields } from "../../src/store/tally.ts";
import { compileShipped } from "./support/rulesets.ts";

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

const ruleset = compileShipped();
const experiment = ruleset.experiments[0] as CompiledExperiment;
const T0 = Date.parse("2027-02-01T09:00:00Z");

function rows(): TallyRow[] {
  const updates: TallyUpdate[] = [];
  for (let i = 0; i < 200; i++) {
    for (const [arm, cost, every] of [["email", 100, 2], ["sms", 8_300, 4]] as const) {
      updates.push(exposureUpdate(experiment.id, arm, T0 + i * 60_000));
      const add = (counters: Record<string, number>) => updates.push({ experiment: experiment.id, arm, now: T0 + i * 60_000, add: counters, eventKey: null });
      add(outcomeCounters("sent", `${arm}${i}`, cost));
      add(outcomeCounters(i % every === 0 ? "abandoned" : "completed", `${arm}${i}`, 0));
    }
  }
  const fields = new Map<string, number>();
  for (const u of updates) for (const [f, v] of tallyFields(u)) fields.set(f, (fields.get(f) ?? 0) + v);
  return [...fields].flatMap(([f, value]) => {
    const p = parseTallyField(f);
    return p === null ? [] : [{ ...p, value }];
  });
}

const tmp = mkdtempSync(join(tmpdir(), "riskgate-exp-cli-"));
const rowsFile = join(tmp, "rows.json");
writeFileSync(rowsFile, JSON.stringify(rows()));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("riskgate experiments", () => {
  it("list: the experiments in the rule files", async () => {
    const r = await run(["experiments", "list"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^medium-email-vs-sms {2}tier medium {2}2026-11-01 to 2027-11-01 {2}\w+ {2}arms: email=email_otp>sms_otp, sms=sms_otp>email_otp, holdout 10 %\n$/);
  });

  it("report --tallies: ranks the arms by cost per completed reset, with intervals and a verdict", async () => {
    const r = await run(["experiments", "report", experiment.id, "--tallies", rowsFile, "--now", "2027-02-02"]);
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe("experiment medium-email-vs-sms: tier medium, 2026-11-01 to 2027-11-01, running");
    expect(r.out).toContain('"email" is ahead: 0.0002 USD per completed reset');
    const ranked = lines.filter((l) => /^[1-9-] /.test(l));
    expect(ranked.map((l) => l.split(/\s+/)[1])).toEqual(["email", "sms", "holdout"]);
    expect(ranked[0]).toMatch(/50%/);
    expect(r.out).toMatch(/The evidence is enough/);
  });

  it("report --json gives the report object", async () => {
    const r = await run(["experiments", "report", experiment.id, "--tallies", rowsFile, "--json"]);
    const report = JSON.parse(r.out) as { arms: { arm: string; rank: number | null }[] };
    expect(report.arms.map((a) => [a.arm, a.rank])).toEqual([["email", 1], ["sms", 2], ["holdout", null]]);
  });

  it.each([
    [["experiments", "report"], /needs exactly one experiment id/],
    [["experiments", "report", "nope", "--tallies", rowsFile], /no experiment "nope" in rules \(have: medium-email-vs-sms\)/],
    // A remote gateway needs the token; one on 127.0.0.1 gets the development token (below).
    [["experiments", "report", "medium-email-vs-sms", "--url", "https://gateway.example"], /set RISKGATE_ADMIN_TOKEN/],
    [["experiments", "frobnicate"], /unknown command "experiments frobnicate"/],
  ])("usage errors exit 2: %j", async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  describe("from a gateway", () => {
    let server: Server;
    let url = "";
    const seen: (string | undefined)[] = [];
    beforeAll(async () => {
      const body = JSON.stringify(buildReport(ruleset, experiment, rows(), T0 + 86_400_000));
      server = createServer((req, res) => {
        seen.push(req.headers.authorization);
        const ok = req.headers.authorization === "Bearer test-admin-token" && req.url === `/__riskgate/experiments/${experiment.id}?format=json`;
        res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
        res.end(ok ? body : JSON.stringify({ error: { code: "ERR_UNAUTHORIZED", message: "no" } }));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address();
      url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("renders the gateway's report with the admin token", async () => {
      const r = await run(["experiments", "report", experiment.id, "--url", url], { RISKGATE_ADMIN_TOKEN: "test-admin-token" });
      expect(r.code).toBe(0);
      expect(r.out).toContain('"email" is ahead');
      expect(seen.at(-1)).toBe("Bearer test-admin-token");
    });

    it("on 127.0.0.1 without RISKGATE_ADMIN_TOKEN, sends the development token (what npm start uses)", async () => {
      const port = new URL(url).port;
      const r = await run(["experiments", "report", experiment.id], { PORT: port });
      expect(r.code).toBe(1);
      expect(seen.at(-1)).toBe("Bearer riskgate-dev-admin-token");
    });

    it("a refused token is a failure with the gateway's answer", async () => {
      const r = await run(["experiments", "report", experiment.id], { RISKGATE_ADMIN_TOKEN: "wrong", RISKGATE_URL: url });
      expect(r.code).toBe(1);
      expect(r.err).toContain("answered 401 ERR_UNAUTHORIZED: no");
    });
  });
});

describe("the HTML page", () => {
  const html = reportPage(buildReport(ruleset, experiment, rows(), T0 + 86_400_000));

  it("has the four charts as inline SVG and nothing that loads from elsewhere", () => {
    for (const id of ["chart-cost", "chart-completion", "chart-fraud", "chart-exposures"]) expect(html).toContain(`data-testid="${id}"`);
    expect(html).not.toMatch(/<script|src=|href="http/);
    expect(html.match(/<svg /g)).toHaveLength(4);
  });

  it("escapes what it shows", () => {
    const evil = buildReport(ruleset, { ...experiment, description: "<img src=x onerror=alert(1)>" }, [], T0);
    const page = reportPage(evil);
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&#60;img src=x onerror=alert(1)&#62;");
  });
});
