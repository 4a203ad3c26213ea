/**
 * The `riskgate` command. Exit codes: 0 success, 1 the rules, the tests or the replay
 * gate failed, 2 usage error. Rule errors go to stderr as `file:line:col: message`.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { normaliseIdentifier } from "../context/account.ts";
import { createHasher } from "../context/hmac.ts";
import { explainCommand, replayCommand } from "./analysis.ts";
import { DECISIONS_USAGE, decisionsCommand } from "./decisions.ts";
import { build, check, loadBoth, test } from "./commands.ts";
import { listCommand, reportCommand } from "./experiments.ts";
import { EXIT, type Io, processIo, UsageError } from "./io.ts";
import { KEYS_USAGE, keysCommand } from "./keys.ts";
import { LISTS_USAGE, listsCommand } from "./lists.ts";
import { ACCOUNTS_USAGE, accountsCommand, LIVE_LISTS_USAGE, liveListsCommand, PENALTY_USAGE, penaltyCommand } from "./live-lists.ts";

const RULES_USAGE = `rule commands (--dir defaults to rules, --candidate to <dir>/candidate):
  rules check   [--dir d] [--candidate c]          validate rule files (and the candidate)
  rules build   [--dir d] [--candidate c] [--out build/ruleset.json] [--candidate-out build/candidate.json]
                                                  validate and write the bundled rule sets
  rules test    [--dir d] [--tests <dir>/tests] [--candidate c] [--verbose]
                                                  run the rule tests (against the candidate with --candidate,
                                                  adding the candidate's own fixtures in <candidate>/tests)
  rules explain <request.json> [--dir d] [--candidate c] [--json]
                                                  score breakdown, rule by rule, with the rate-limit steps;
                                                  for a decision log line, compared with its recorded verdict
  rules replay  <decisions.jsonl|-> --candidate c [--dir d] [--outcomes outcomes.jsonl] [--samples 5] [--json] [--quiet] [--fail-on-change]
                                                  backtest the candidate on recorded decisions; --outcomes joins
                                                  riskgate.outcome lines: fraud caught, friction added
`;

const EXPERIMENTS_USAGE = `experiment commands:
  experiments list   [--dir d]                     the experiments in the rule files
  experiments report <id> [--url http://127.0.0.1:$PORT] [--json]
                                                  the report from a running gateway (URL also from
                                                  RISKGATE_URL, else 127.0.0.1 on PORT or 8787; admin
                                                  token in RISKGATE_ADMIN_TOKEN, on 127.0.0.1/localhost
                                                  the development token by default)
  experiments report <id> --tallies rows.json [--dir d] [--now 2027-01-08] [--json]
                                                  the report from exported tally rows, offline
`;

const DECISIONS_GROUP_USAGE = `decision commands:
${DECISIONS_USAGE}`;

const OTHER_USAGE = `other:
  account-key                                     HMAC account identifiers read from stdin (one per
                                                  line) with ACCOUNT_HMAC_SECRET, for privileged lists
`;

const USAGE = `usage: riskgate <command> [options]      riskgate --help | --version | <command> --help

${RULES_USAGE}${DECISIONS_GROUP_USAGE}${EXPERIMENTS_USAGE}list commands (IP reputation lists in <dir>/lists):
${LISTS_USAGE}${LIVE_LISTS_USAGE}operator actions (on the running gateway):
${ACCOUNTS_USAGE}${PENALTY_USAGE}key commands:
${KEYS_USAGE}${OTHER_USAGE}
exit codes: 0 ok, 1 rules/tests failed (or replay changes with --fail-on-change), 2 usage
`;

/** Usage of one command group (`riskgate rules --help`). */
const GROUP_USAGE: Readonly<Record<string, string>> = {
  rules: RULES_USAGE,
  decisions: DECISIONS_GROUP_USAGE,
  experiments: EXPERIMENTS_USAGE,
  lists: `list commands (IP reputation lists in <dir>/lists):\n${LISTS_USAGE}${LIVE_LISTS_USAGE}`,
  keys: `key commands:\n${KEYS_USAGE}`,
  accounts: `operator actions (on the running gateway):\n${ACCOUNTS_USAGE}`,
  penalty: `operator actions (on the running gateway):\n${PENALTY_USAGE}`,
  "account-key": OTHER_USAGE,
};

/** The usage for `words` (e.g. ["rules", "check"]): that command's lines, else its group's, else all. */
export function usageFor(words: readonly string[]): string {
  const [group, command] = words;
  const section = group === undefined ? undefined : GROUP_USAGE[group];
  if (section === undefined) return USAGE;
  if (command !== undefined) {
    // The command's line and its indented continuation lines.
    const lines = section.split("\n");
    const start = lines.findIndex((l) => new RegExp(`^  ${group} ${command}( |$)`).test(l));
    if (start >= 0) {
      let end = start + 1;
      while (end < lines.length && /^ {20,}\S/.test(lines[end] ?? "")) end++;
      return `usage:\n${lines.slice(start, end).join("\n")}\n`;
    }
  }
  return `usage:\n${section}`;
}

/** The version in package.json. */
export function version(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

const OPTIONS = {
  dir: { type: "string", default: "rules" },
  candidate: { type: "string" },
  // No default here: `rules build` defaults it, `decisions export` writes to stdout without it.
  out: { type: "string" },
  "candidate-out": { type: "string", default: "build/candidate.json" },
  tests: { type: "string" },
  samples: { type: "string", default: "5" },
  outcomes: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  verbose: { type: "boolean", default: false },
  "fail-on-change": { type: "boolean", default: false },
  url: { type: "string" },
  list: { type: "string" },
  reason: { type: "string" },
  expires: { type: "string" },
  tallies: { type: "string" },
  now: { type: "string" },
  only: { type: "string" },
  timeout: { type: "string" },
  alg: { type: "string" },
  kid: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "V", default: false },
} as const;

type Values = ReturnType<typeof parse>["values"];

function parse(args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Run the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  // --help and --version win over anything else on the line, even a bad flag.
  const dashDash = argv.indexOf("--");
  const flags = dashDash < 0 ? argv : argv.slice(0, dashDash);
  if (flags.includes("--help") || flags.includes("-h") || (flags[0] === "help")) {
    const words = flags.filter((a) => !a.startsWith("-") && a !== "help");
    io.out(usageFor(words));
    return EXIT.OK;
  }
  if (flags.includes("--version") || flags.includes("-V")) {
    io.out(`riskgate ${version()}\n`);
    return EXIT.OK;
  }
  try {
    const { values, positionals } = parse(argv);
    return await dispatch(io, positionals, values);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`riskgate: ${err.message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
}

async function dispatch(io: Io, words: readonly string[], v: Values): Promise<number> {
  const [group, command, arg, ...extra] = words;
  const dir = v.dir;
  const candidateDir = v.candidate ?? `${dir}/candidate`;
  if (group === "account-key" && command === undefined) return accountKey(io);
  if (group === "experiments") return experiments(io, words.slice(1), v);
  if (group === "decisions") {
    if (arg !== undefined) throw new UsageError(`unexpected argument "${[arg, ...extra].join(" ")}"`);
    return decisionsCommand(io, command, { url: v.url, since: v.since, limit: v.limit, out: v.out });
  }
  if (group === "keys") return keysCommand(io, words.slice(1), { alg: v.alg, kid: v.kid, json: v.json });
  if (group === "accounts" || group === "penalty") {
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra.join(" ")}"`);
    const flags = { url: v.url, reason: v.reason, expires: v.expires, json: v.json };
    const done = group === "accounts" ? await accountsCommand(io, command, arg, flags) : await penaltyCommand(io, command, arg, flags);
    if (done !== null) return done;
    throw new UsageError(`unknown command "${words.join(" ")}"`);
  }
  if (group === "lists") {
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra.join(" ")}"`);
    const live = await liveListsCommand(io, command, arg, { url: v.url, list: v.list, reason: v.reason, expires: v.expires, json: v.json });
    if (live !== null) return live;
    return listsCommand(command, { dir: `${dir}/lists`, only: v.only, timeout: v.timeout });
  }
  if (group !== "rules" || command === undefined) throw new UsageError(group === undefined ? "no command" : `unknown command "${words.join(" ")}"`);
  const needsArg = command === "explain" || command === "replay";
  if (extra.length > 0 || (arg !== undefined && !needsArg)) throw new UsageError(`unexpected argument "${[arg, ...extra].filter(Boolean).join(" ")}"`);
  if (command === "check") return check(io, dir, candidateDir);
  if (command === "build") return build(io, dir, candidateDir, v.out ?? "build/ruleset.json", v["candidate-out"]);
  if (command !== "test" && !needsArg) throw new UsageError(`unknown command "rules ${command}"`);
  if (needsArg && arg === undefined) throw new UsageError(`rules ${command} needs a file argument`);
  if (command === "replay" && v.candidate === undefined) throw new UsageError("rules replay needs --candidate <dir>");
  // Testing the live rules must not depend on the state of a candidate.
  const loaded = await loadBoth(io, dir, candidateDir, command !== "test" || v.candidate !== undefined);
  if (loaded === null) return EXIT.FAILED;
  if (command === "test") {
    const target = v.candidate === undefined ? loaded.live : loaded.candidate;
    if (target === null) throw new UsageError(`no candidate rule files in ${candidateDir}`);
    return test(io, target, v.tests ?? `${dir}/tests`, v.verbose, v.candidate === undefined ? null : `${candidateDir}/tests`);
  }
  if (command === "explain") return explainCommand(io, arg ?? "", loaded.live, loaded.candidate, v.json);
  if (loaded.candidate === null) throw new UsageError(`no candidate rule files in ${candidateDir}`);
  const samples = Number(v.samples);
  if (!Number.isInteger(samples) || samples < 0) throw new UsageError("--samples must be a whole number");
  const opts = { samples, json: v.json, quiet: v.quiet, failOnChange: v["fail-on-change"], progressEvery: 100_000, outcomes: v.outcomes };
  return replayCommand(io, arg ?? "", loaded.live, loaded.candidate, opts);
}

/** `experiments list` and `experiments report <id>`. */
function experiments(io: Io, words: readonly string[], v: Values): Promise<number> {
  const [command, id, ...extra] = words;
  const flags = { dir: v.dir, url: v.url, tallies: v.tallies, now: v.now, json: v.json };
  if (command === "list" && id === undefined) return listCommand(io, flags);
  if (command !== "report") throw new UsageError(`unknown command "experiments ${words.join(" ")}"`);
  if (id === undefined || extra.length > 0) throw new UsageError("experiments report needs exactly one experiment id");
  return reportCommand(io, id, flags);
}

/** Print the account key for each identifier on stdin, as the gateway computes it. */
async function accountKey(io: Io): Promise<number> {
  // Read from stdin, never from arguments: identifiers must not land in shell history or `ps`.
  const secret = io.env("ACCOUNT_HMAC_SECRET");
  if (secret === undefined || secret === "") throw new UsageError("set ACCOUNT_HMAC_SECRET to the gateway's secret");
  const hasher = await createHasher(secret);
  for await (const line of io.lines("-")) {
    const id = normaliseIdentifier(line);
    if (id !== null) io.out(`${await hasher.hash("account", id)}\n`);
  }
  return EXIT.OK;
}
