// Every reason code has an entry in docs/reason-codes.md, and the docs name no code
// that does not exist.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { contextSchema } from "../../src/scoring/rules/context-schema.ts";
import { REASON_CODES } from "../../src/shared/decision.ts";

const doc = readFileSync("docs/reason-codes.md", "utf8");
const documented = new Set([...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));

describe("docs/reason-codes.md", () => {
  it.each(REASON_CODES.map((c) => [c]))("documents %s", (code) => {
    expect(documented.has(code)).toBe(true);
  });

  it("documents no code that does not exist", () => {
    const known = new Set<string>(REASON_CODES);
    expect([...documented].filter((c) => c !== undefined && !known.has(c))).toEqual([]);
  });
});

// The context table in docs/rules.md names every section and field a condition can read,
// with its CEL type, and nothing else (it had fallen behind the schema).
describe("docs/rules.md context table", () => {
  const rules = readFileSync("docs/rules.md", "utf8");
  const rows = new Map([...rules.matchAll(/^\| `([a-z_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2] ?? ""]));
  const schema = contextSchema({ windows: {}, distinct: {} });
  it.each(Object.entries(schema).filter(([, fields]) => Object.keys(fields).length > 0))("documents every field of %s", (section, fields) => {
    const row = rows.get(section) ?? "";
    const documented = new Map([...row.matchAll(/`([a-z_]+)` (int|double|string|bool|list<string>)/g)].map((m) => [m[1], m[2]]));
    expect(Object.fromEntries(documented)).toEqual(fields);
  });
});
