/**
 * The experiment pages of the admin area, mounted at /__riskgate/experiments behind the
 * admin authentication (src/admin/routes.ts): nothing here is reachable without it.
 *
 *   GET /__riskgate/experiments         the experiments in the rule set (JSON or HTML)
 *   GET /__riskgate/experiments/<id>    the report: JSON (Accept: application/json or
 *                                       ?format=json) or the HTML page with charts
 *
 * Reading a report also applies the guardrails (the monitor's refresh), so a stop is
 * recorded even when no reset traffic arrives to trigger one.
 */
import { type Context, Hono } from "hono";
import type { Env } from "../shared/env.ts";
import { RiskgateError } from "../shared/errors.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { StoreError } from "../store/port.ts";
import { REPORT_PAGE_HEADERS, reportPage } from "../scoring/experiments/render-html.ts";
import { buildReport } from "../scoring/experiments/report.ts";
import { EXPERIMENT_ID } from "../scoring/experiments/schema.ts";
import { esc } from "../scoring/experiments/svg.ts";

type ExperimentsEnv = { Bindings: Env; Variables: { gateway: Gateway } };
type ExperimentsContext = Context<ExperimentsEnv>;

/** JSON unless a browser asks for HTML (and ?format overrides both). */
function wantsJson(c: ExperimentsContext): boolean {
  const format = c.req.query("format");
  if (format === "json") return true;
  if (format === "html") return false;
  return !(c.req.header("accept") ?? "").includes("text/html");
}

async function report(c: ExperimentsContext): Promise<Response> {
  const id = c.req.param("id") ?? "";
  const gateway = c.var.gateway;
  const experiment = EXPERIMENT_ID.test(id) ? gateway.ruleset.experiments.find((e) => e.id === id) : undefined;
  if (experiment === undefined) throw new RiskgateError("ERR_NOT_FOUND", "no such experiment in the rule set");
  const now = gateway.now();
  let rows: Awaited<ReturnType<Gateway["store"]["readTallies"]>>;
  try {
    await gateway.experiments?.refresh(now);
    rows = await gateway.store.readTallies(experiment.id);
  } catch (err) {
    const code = err instanceof StoreError ? err.code : "STORE_UNAVAILABLE";
    throw new RiskgateError("ERR_STORE_UNAVAILABLE", `tallies could not be read (${code}); retry`, { "retry-after": "5" });
  }
  const built = buildReport(gateway.ruleset, experiment, rows, now);
  if (wantsJson(c)) return c.json(built, 200, { "cache-control": "no-store" });
  return new Response(reportPage(built), { status: 200, headers: REPORT_PAGE_HEADERS });
}

function list(c: ExperimentsContext): Response {
  const now = c.var.gateway.now();
  const experiments = c.var.gateway.ruleset.experiments.map((e) => ({
    id: e.id,
    tier: e.tier,
    start: new Date(e.startMs).toISOString(),
    end: new Date(e.endMs).toISOString(),
    status: now < e.startMs ? "scheduled" : now >= e.endMs ? "ended" : "running",
    arms: e.arms.map((a) => ({ id: a.id, channels: a.channels, weight: a.weight })),
    holdout: e.holdout,
  }));
  if (wantsJson(c)) return c.json({ experiments }, 200, { "cache-control": "no-store" });
  const items = experiments.map((e) => `<li><a href="/__riskgate/experiments/${esc(e.id)}">${esc(e.id)}</a> · tier ${esc(e.tier)} · ${esc(e.status)}</li>`).join("");
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>riskgate · experiments</title><link rel="icon" href="data:,"></head><body><h1>Experiments</h1><ul>${items || "<li>none in the rule set</li>"}</ul></body></html>`;
  return new Response(html, { status: 200, headers: REPORT_PAGE_HEADERS });
}

/** The sub-app to mount under the admin base, after its authentication middleware. */
export function experimentRoutes(): Hono<ExperimentsEnv> {
  const app = new Hono<ExperimentsEnv>();
  app.get("/", list);
  app.get("/:id", report);
  return app;
}
