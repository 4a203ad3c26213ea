// `riskgate decisions export` against the real gateway inside workerd: resets go through
// the Worker (real Durable Object store and audit hub), the CLI's export reads the admin
// API page by page, and its lines match the decision log lines the Worker wrote, so
// `rules replay` recomputes every recorded verdict (the IP ladder's challenges included).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import { exportedLines } from "../../src/cli/decisions-source.ts";
import { replay } from "../../src/cli/replay.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { compileRuleset } from "../../src/scoring/ruleset/compile.ts";
import { call, GATEWAY, reset } from "./support/http.ts";

/** The export's source: the Worker's admin API, with the token `npm start` prints. */
function source(gateway: Gateway) {
  return {
    base: GATEWAY,
    token: DEV_ADMIN_TOKEN,
    fetch: (url: string, init: RequestInit) => call(gateway, new URL(url).pathname + new URL(url).search, init),
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("decisions export from a running gateway", () => {
  it("exports the decision log lines, paged, and replays them with every recorded verdict recomputed", async () => {
    const logged: DecisionLogLine[] = [];
    const base = await createGateway(env);
    const gateway: Gateway = { ...base, log: (line) => void logged.push(line) };
    const since = Date.now() - 1000;
    // One address of its own sends 13 resets for different accounts: the IP ladder's
    // CAPTCHA step (more than 10 in 10 minutes) challenges the last ones.
    const ip = `198.51.100.${100 + Math.floor(Math.random() * 100)}`;
    for (let i = 0; i < 13; i++) {
      const res = await reset(gateway, { email: `export-${ip}-${i}@example.com` }, { "cf-connecting-ip": ip });
      expect(res.status, `reset ${i}`).toBeLessThan(500);
    }
    expect(logged).toHaveLength(13);
    const ladderChallenged = logged.filter((l) => l.rate_limits?.some((r) => r.name === "ip" && r.step === "captcha"));
    expect(ladderChallenged.length).toBeGreaterThan(0);
    // The rules alone would not stop the first of them: the ladder's step is what the replay must apply.
    expect(ladderChallenged.some((l) => l.verdict !== "allow")).toBe(true);

    // Pages of 4: the cursor carries on where each ended.
    const exported = (await collect(exportedLines(source(gateway), since, 1000, 4))).map((l) => JSON.parse(l.text) as DecisionLogLine);
    const ours = new Map(exported.filter((l) => l.type === "riskgate.decision").map((l) => [l.id, l]));
    for (const line of logged) {
      const got = ours.get(line.id);
      expect(got, line.id).toBeDefined();
      // The penalty level is the one field the audit events do not carry.
      const { rate_limits, ...rest } = line;
      expect(got).toEqual({ ...rest, rate_limits: (rate_limits ?? []).map(({ level: _level, ...r }) => r) });
      // HMACs only: never the address or the identifier.
      expect(JSON.stringify(got)).not.toContain(ip);
      expect(JSON.stringify(got)).not.toContain("@example.com");
    }
    const limited = await collect(exportedLines(source(gateway), since, 5));
    expect(limited.filter((l) => l.decision)).toHaveLength(5);

    // The export is what replay reads: live rules against live rules agree with every recorded verdict.
    const candidate = compileRuleset({ ...gateway.ruleset.spec, rules: gateway.ruleset.spec.rules.map((r) => (r.id === "accounts-per-ip" ? { ...r, weight: 100 } : r)) }, "candidate-export");
    const mine = exported.filter((l) => logged.some((x) => x.id === (l as { id?: string }).id)).map((l) => JSON.stringify(l));
    const report = await replay((async function* () { yield* mine; })(), gateway.ruleset, candidate, { samples: 3, progressEvery: 1000 });
    expect(report.decisions).toBe(13);
    expect(report.malformed + report.noFacts).toBe(0);
    expect(report.recordedDiffers).toBe(0);
  });

  it("refuses a bad since or cursor with a 400 and needs admin credentials", async () => {
    const gateway = await createGateway(env);
    const auth = { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } };
    expect((await call(gateway, "/__riskgate/api/decisions/export?since=tomorrow", auth)).status).toBe(400);
    expect((await call(gateway, "/__riskgate/api/decisions/export?cursor=x", auth)).status).toBe(400);
    expect((await call(gateway, "/__riskgate/api/decisions/export?limit=5000", auth)).status).toBe(400);
    expect((await call(gateway, "/__riskgate/api/decisions/export")).status).toBe(401);
  });
});
