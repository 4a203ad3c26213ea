/**
 * The `riskgate` command. Exit codes: 0 success, 1 the rules (or tests) failed,
 * 2 usage error. Errors go to stderr as `file:line:col: message`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { formatError } from "../rules/load.ts";
import { LISTS_USAGE, listsCommand } from "./lists.ts";
import { artefact, loadRuleDir } from "./rule-files.ts";

const USAGE = `usage: riskgate <command>

commands:
  rules check [--dir rules]                       validate rule files
  rules build [--dir rules] [--out build/ruleset.json]
                                                  validate and write the bundled rule set
${LISTS_USAGE}`;

/** Parse `--name value` flags after the positional words. */
function flags(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg.startsWith("--")) out.set(arg.slice(2), args[i + 1] ?? "");
    if (arg.startsWith("--")) i++;
  }
  return out;
}

async function check(dir: string): Promise<number> {
  const result = await loadRuleDir(dir);
  if (!result.ok) {
    for (const e of result.errors) process.stderr.write(`${formatError(e)}\n`);
    process.stderr.write(`${result.errors.length} error(s) in ${dir}\n`);
    return 1;
  }
  process.stdout.write(`${dir}: ${result.spec.rules.length} rules, ${result.spec.tiers.length} tiers: ok\n`);
  return 0;
}

async function build(dir: string, out: string): Promise<number> {
  const result = await loadRuleDir(dir);
  if (!result.ok) {
    for (const e of result.errors) process.stderr.write(`${formatError(e)}\n`);
    return 1;
  }
  const built = artefact(result.spec);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(built)}\n`);
  process.stdout.write(`built ${out} (rules ${built.version}, ${result.spec.rules.length} rules)\n`);
  return 0;
}

/** Run the CLI; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  const opts = flags(rest);
  const dir = opts.get("dir") ?? "rules";
  if (group === "lists") return listsCommand(command, opts);
  if (group === "rules" && command === "check") return check(dir);
  if (group === "rules" && command === "build") return build(dir, opts.get("out") ?? "build/ruleset.json");
  process.stderr.write(USAGE);
  return 2;
}
