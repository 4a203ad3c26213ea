/**
 * `riskgate lists ...`: check the list files and refresh them from public sources.
 */
import { listName, readLists } from "./data/lists-build.ts";
import { type UpdateDeps, updateLists } from "./lists-update.ts";
import { durationMs } from "../scoring/rules/duration.ts";

export const LISTS_USAGE = `  lists check   [--dir d]                          validate the IP reputation lists
  lists update  [--dir d] [--only tor-exits,vpn] [--timeout 20s]
                                                  refresh them from <dir>/lists/sources.yaml
`;

/** Options of the lists commands. */
export interface ListsOptions {
  readonly dir: string;
  readonly only?: string | undefined;
  readonly timeout?: string | undefined;
}

async function check(dir: string): Promise<number> {
  const { lists, errors } = await readLists(dir);
  for (const e of errors) process.stderr.write(`${e}\n`);
  if (errors.length > 0) return 1;
  for (const l of lists) process.stdout.write(`${l.name}: ${l.entries.length} entries\n`);
  return 0;
}

/** Run a `lists` subcommand; `deps` lets tests inject fetch and time. */
export async function listsCommand(command: string | undefined, opts: ListsOptions, deps?: Partial<UpdateDeps>): Promise<number> {
  const { dir } = opts;
  if (command === "check") return check(dir);
  if (command === "update") {
    const timeout = opts.timeout ?? "20s";
    if (!/^\d+(ms|s|m)$/.test(timeout)) {
      process.stderr.write("--timeout must be a duration such as 20s\n");
      return 2;
    }
    const only = (opts.only ?? "").split(",").filter((s) => s.length > 0).map((s) => listName(s).replace(/_/g, "-"));
    return updateLists(dir, {
      fetch: (url, init) => fetch(url, init),
      now: () => Date.now(),
      log: (line) => process.stdout.write(`${line}\n`),
      timeoutMs: durationMs(timeout),
      maxBytes: 64 * 1024 * 1024,
      ...deps,
    }, only);
  }
  process.stderr.write(`usage: riskgate lists <check|update>\n${LISTS_USAGE}`);
  return 2;
}
