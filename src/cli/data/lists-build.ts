/**
 * Read rules/lists/*.txt and compile them into build/lists.bin. A list's name is its
 * file name without `.txt`, with `-` as `_` (tor-exits.txt → `tor_exits`).
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { compileLists, type ListExpiry, type ListsMeta, type NamedList } from "../../scoring/signals/list-compile.ts";
import { parseListText } from "../../scoring/signals/list-format.ts";

/** The list name of a file name. */
export function listName(file: string): string {
  return file.replace(/\.txt$/, "").replace(/-/g, "_");
}

/** Lists in `dir`, or `file:line: message` errors. A missing directory is no lists. */
export async function readLists(dir: string): Promise<{ lists: NamedList[]; errors: string[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^[a-z0-9][a-z0-9-]*\.txt$/.test(n)).sort();
  } catch {
    return { lists: [], errors: [] };
  }
  const lists: NamedList[] = [];
  const errors: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const parsed = parseListText(await readFile(path, "utf8"), true);
    for (const e of parsed.errors) errors.push(`${relative(process.cwd(), path)}:${e.line}: ${e.message}`);
    lists.push({ name: listName(name), entries: parsed.entries });
  }
  return { lists, errors };
}

/** Compile the lists in `dir`; errors fail the build. */
export async function buildListsPack(dir: string, now: number): Promise<{ pack: Uint8Array; meta: ListsMeta; expiry: ListExpiry[] } | { errors: string[] }> {
  const { lists, errors } = await readLists(dir);
  if (errors.length > 0) return { errors };
  return compileLists(lists, now);
}
