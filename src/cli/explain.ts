/**
 * `riskgate rules explain <request.json>`: the score breakdown, rule by rule, for one
 * request's facts: which overrides and rules matched, what each added, where the score
 * landed in the tier table and why each channel was kept or left out.
 *
 * The input is a decision log line (its `facts`, `account` and store errors are used),
 * a fixture-like object `{ facts, account?, failures? }`, or bare facts.
 */
import type { Dependency } from "../shared/decision.ts";
import { celValuesFor, type Outcome, type OutcomeInput, outcomeFor } from "../scoring/verdict.ts";
import { tierTable } from "../scoring/policy/index.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import type { Facts } from "../scoring/rules/context-schema.ts";
import { DEPENDENCIES } from "./fixtures.ts";

/** One rule or override's line in the breakdown. */
export interface RuleLine {
  readonly id: string;
  readonly kind: "override" | "rule" | "shadow-rule";
  readonly weight: number;
  readonly matched: boolean;
  readonly error: string | null;
}

/** The breakdown. */
export interface Explanation {
  readonly rules: string;
  readonly lines: readonly RuleLine[];
  readonly tiers: readonly { name: string; min_score: number }[];
  readonly outcome: Outcome;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Read an explain/replay input: a decision log line, `{ facts, ... }`, or bare facts. */
export function inputFrom(json: unknown): OutcomeInput {
  if (!isRecord(json)) throw new Error("expected a JSON object");
  const facts = isRecord(json.facts) ? json.facts : json;
  const account = typeof json.account === "string" ? json.account : null;
  const failures: { dependency: Dependency; code: string }[] = [];
  if (Array.isArray(json.failures)) {
    for (const d of json.failures) {
      if (!(DEPENDENCIES as readonly unknown[]).includes(d)) throw new Error(`failures: unknown dependency ${JSON.stringify(d)} (one of ${DEPENDENCIES.join(", ")})`);
      failures.push({ dependency: d as Dependency, code: "GIVEN" });
    }
  }
  if (Array.isArray(json.errors)) {
    // Only failures that happened before scoring are inputs; rule and origin errors are outputs.
    for (const e of json.errors) {
      if (isRecord(e) && e.dependency === "store" && typeof e.code === "string") failures.push({ dependency: "store", code: e.code });
    }
  }
  return { facts: facts as Facts, accountKey: account, failures };
}

/** Explain one input against one rule set. */
export function explain(ruleset: CompiledRuleset, input: OutcomeInput): Explanation {
  const values = celValuesFor(ruleset, input);
  const run = (test: (v: Record<string, unknown>) => unknown): { matched: boolean; error: string | null } => {
    try {
      return { matched: test(values) === true, error: null };
    } catch (err) {
      return { matched: false, error: (err as Error).message.split("\n")[0] ?? "error" };
    }
  };
  const lines: RuleLine[] = [
    ...ruleset.overrides.map((o) => ({ id: o.id, kind: "override" as const, weight: 0, ...run(o.test) })),
    ...ruleset.rules.map((r) => ({ id: r.id, kind: r.mode === "shadow" ? ("shadow-rule" as const) : ("rule" as const), weight: r.weight, ...run(r.test) })),
  ];
  const outcome = outcomeFor(ruleset, input);
  const tiers = [...tierTable(ruleset, outcome.privileged)].reverse().map((t) => ({ name: t.name, min_score: t.min_score }));
  return { rules: ruleset.version, lines, tiers, outcome };
}

/** The breakdown as text for a terminal. */
export function formatExplanation(e: Explanation, label: string): string {
  const o = e.outcome;
  const out: string[] = [`${label} (rules ${e.rules})${o.privileged ? ", privileged account: stricter tier table" : ""}`];
  const width = Math.max(12, ...e.lines.map((l) => l.id.length + 2));
  out.push(`  ${"rule".padEnd(width)}${"weight".padStart(7)}  matched  adds`);
  for (const l of e.lines) {
    const id = l.kind === "override" ? `!${l.id}` : l.kind === "shadow-rule" ? `~${l.id}` : l.id;
    const decided = o.override === l.id;
    const adds = l.kind === "rule" && l.matched && o.override === null ? `+${l.weight}`.replace("+-", "-") : decided ? "decides" : "";
    const matched = l.error !== null ? `error: ${l.error}` : l.matched ? "yes" : "no";
    out.push(`  ${id.padEnd(width)}${String(l.weight).padStart(7)}  ${matched.padEnd(7)}  ${adds}`.trimEnd());
  }
  out.push("  (! override: short-circuits scoring, ~ shadow rule: recorded, never scored)");
  const table = e.tiers.map((t) => `${t.name} ≥${t.min_score}${t.name === o.tier ? " ←" : ""}`).join(", ");
  out.push(`score ${o.score} → tier ${o.tier}   [${table}]`);
  for (const x of o.excluded) out.push(`channel ${x.channel}: left out (${x.code})`);
  out.push(`verdict ${o.verdict}, channel ${o.channel}${o.channels.length > 1 ? ` (then ${o.channels.slice(1).join(", ")})` : ""}, captcha ${o.captcha ? "yes" : "no"}`);
  out.push(`reasons: ${o.reasons.map((r) => r.code).join(", ") || "none"}`);
  for (const err of o.errors) out.push(`error: ${err.dependency} ${err.code} → fail mode ${err.failMode}`);
  return `${out.join("\n")}\n`;
}
