/**
 * `riskgate experiments list` and `riskgate experiments report <id>`: the report in the
 * terminal, either from a running gateway (GET /__riskgate/experiments/<id>, with the
 * admin token from RISKGATE_ADMIN_TOKEN) or offline from exported tally rows and the rule
 * files (--tallies), through the same report code the Worker runs.
 */
import { readFile } from "node:fs/promises";
import { activeExperiments } from "../scoring/experiments/compile.ts";
import { reportText } from "../scoring/experiments/render-text.ts";
import { buildReport, type ExperimentReport } from "../scoring/experiments/report.ts";
import type { TallyRow } from "../store/port.ts";
import { formatError } from "../scoring/ruleset/load.ts";
import { EXIT, type Io, UsageError } from "./io.ts";
import { compileSpec, loadRuleDir } from "./rule-files.ts";

/** Flags the experiments commands read. */
export interface ExperimentFlags {
  readonly dir: string;
  readonly url?: string | undefined;
  readonly tallies?: string | undefined;
  readonly now?: string | undefined;
  readonly json: boolean;
}

const TIMEOUT_MS = 10_000;

/**
 * The development admin token (src/admin/config.ts DEV_ADMIN_TOKEN, which `npm start`
 * prints). Copied, not imported: that module drags the Worker's types into the CLI's build;
 * test/unit/cli.test.ts keeps the two equal.
 */
export const DEV_ADMIN_TOKEN = "riskgate-dev-admin-token";

async function loadRules(io: Io, dir: string) {
  const loaded = await loadRuleDir(dir);
  if (loaded.ok) return compileSpec(loaded.spec);
  for (const e of loaded.errors) io.err(`${formatError(e)}\n`);
  return null;
}

function parseRows(text: string, file: string): TallyRow[] {
  const data = JSON.parse(text) as unknown;
  const rows = Array.isArray(data) ? data : (data as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(rows)) throw new UsageError(`${file}: expected a JSON array of tally rows (or {"rows": [...]})`);
  return rows.filter((r): r is TallyRow => typeof r === "object" && r !== null && typeof r.arm === "string" && typeof r.counter === "string" && typeof r.value === "number");
}

/** A gateway on this machine: `npm start` runs in development, where the dev token works. */
export function isLoopback(url: URL): boolean {
  return url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
}

/** The gateway `experiments report` asks: --url, RISKGATE_URL, else `npm start`'s (PORT or 8787). */
export function defaultGatewayUrl(env: (name: string) => string | undefined): string {
  return env("RISKGATE_URL") || `http://127.0.0.1:${env("PORT") || "8787"}`;
}

async function fetchReport(io: Io, base: string, id: string): Promise<ExperimentReport | null> {
  let url: URL;
  try {
    url = new URL(`/__riskgate/experiments/${encodeURIComponent(id)}?format=json`, base);
  } catch {
    throw new UsageError(`not a URL: ${base}`);
  }
  // A production gateway refuses the development token, so it is only a default locally.
  const token = io.env("RISKGATE_ADMIN_TOKEN") || (isLoopback(url) ? DEV_ADMIN_TOKEN : "");
  if (token === "") throw new UsageError("set RISKGATE_ADMIN_TOKEN to the gateway's admin token (or use --tallies for offline data)");
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: "application/json" }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? (cause?.message || (err as Error).message);
    io.err(`riskgate: cannot reach ${url.origin} (${why}); is the gateway running? (--url, RISKGATE_URL or PORT)\n`);
    return null;
  }
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!res.ok) {
    io.err(`riskgate: ${url.origin} answered ${res.status}${body?.error ? ` ${body.error.code}: ${body.error.message}` : ""}\n`);
    return null;
  }
  return body as unknown as ExperimentReport;
}

async function offlineReport(io: Io, flags: ExperimentFlags, id: string, file: string): Promise<ExperimentReport | null> {
  const ruleset = await loadRules(io, flags.dir);
  if (ruleset === null) return null;
  const experiment = ruleset.experiments.find((e) => e.id === id);
  if (experiment === undefined) throw new UsageError(`no experiment "${id}" in ${flags.dir} (have: ${ruleset.experiments.map((e) => e.id).join(", ") || "none"})`);
  const now = flags.now === undefined ? Date.now() : Date.parse(flags.now);
  if (!Number.isFinite(now)) throw new UsageError("--now must be an ISO date or time");
  return buildReport(ruleset, experiment, parseRows(await readFile(file, "utf8"), file), now);
}

/** `experiments report <id>`. */
export async function reportCommand(io: Io, id: string, flags: ExperimentFlags): Promise<number> {
  const report = flags.tallies === undefined
    ? await fetchReport(io, flags.url ?? defaultGatewayUrl((name) => io.env(name)), id)
    : await offlineReport(io, flags, id, flags.tallies);
  if (report === null) return EXIT.FAILED;
  io.out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : reportText(report));
  return EXIT.OK;
}

/** `experiments list`: the experiments in the rule files and whether they run now. */
export async function listCommand(io: Io, flags: ExperimentFlags): Promise<number> {
  const ruleset = await loadRules(io, flags.dir);
  if (ruleset === null) return EXIT.FAILED;
  const now = Date.now();
  const running = new Set(activeExperiments(ruleset.experiments, now).map((e) => e.id));
  for (const e of ruleset.experiments) {
    const state = running.has(e.id) ? "running" : now < e.startMs ? "scheduled" : "ended";
    io.out(`${e.id}  tier ${e.tier}  ${new Date(e.startMs).toISOString().slice(0, 10)} to ${new Date(e.endMs).toISOString().slice(0, 10)}  ${state}  arms: ${e.arms.map((a) => `${a.id}=${a.channels.join(">")}`).join(", ")}${e.holdout > 0 ? `, holdout ${e.holdout * 100} %` : ""}\n`);
  }
  if (ruleset.experiments.length === 0) io.out(`no experiments in ${flags.dir}\n`);
  return EXIT.OK;
}
