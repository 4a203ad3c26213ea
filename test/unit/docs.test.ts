// Every reason code has an entry in docs/reason-codes.md, and the docs name no code
// that does not exist.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
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
