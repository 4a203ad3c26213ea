/**
 * `riskgate rules explain <request.json>`: the score breakdown, rule by rule, for one
 * request's facts: which overrides and rules matched, what each added, where the score
 * landed in the tier table and why each channel was kept or left out.
 *
 * The input is a decision log line (its `facts`, `account` and store errors are used),
 * a fixture-like object `{ facts, account?, failures? }`, or bare facts.
 *
 * A log line (or an object with `rate_limits` / `captcha`) also says which steps the
 * rate-limit ladders took and how the CAPTCHA step ended: the breakdown lists every
 * ladder with its thresholds and recorded step, gives the final verdict those lead to,
 * and compares it with the verdict the line recorded.
 */
import type { Dependency } from "../shared/decision.ts";
import { celValuesFor, type Outcome, type OutcomeInput, outcomeFor } from "../scoring/verdict.ts";
import { tierTable } from "../scoring/policy/index.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import type { Facts } from "../scoring/rules/context-schema.ts";
import { DEPENDENCIES } from "./fixtures.ts";
import { type Final, finalFor, type Recorded } from "./recorded.ts";

/** One rule or override's line in the breakdown. */
export interface RuleLine {
  readonly id: string;
  readonly kind: "override" | "rule" | "shadow-rule";
  readonly weight: number;
  readonly matched: boolean;
  readonly error: string | null;
}

/** One rate-limit ladder's line: what it counts, its thresholds and the recorded step. */
export interface LadderLine {
  readonly name: string;
  /** The key kind it counts on (`ip`, `account`, ...). */
  readonly key: string;
  /** `captcha >10/10m, 429 >20/1m`. */
  readonly steps: string;
  /** `1m ×2 up to 1h, -1 level per 1h`, or null without a penalty box. */
  readonly penalty: string | null;
  readonly unless: string | null;
  /** The recorded step (`allow` when the line lists the ladder nowhere); null when not recorded. */
  readonly step: string | null;
  readonly waived: boolean;
  readonly level: number | null;
}

/** The breakdown. */
export interface Explanation {
  readonly rules: string;
  readonly lines: readonly RuleLine[];
  readonly tiers: readonly { name: string; min_score: number }[];
  readonly outcome: Outcome;
  readonly ladders: readonly LadderLine[];
  /** The verdict after the recorded ladders and CAPTCHA step (what the Worker answered). */
  readonly final: Final;
  readonly recorded: Recorded;
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

/** Every ladder of the rule set with the step `recorded` says it took. */
function ladderLines(ruleset: CompiledRuleset, recorded: Recorded): LadderLine[] {
  const lines = ruleset.ladders.map((l): LadderLine => {
    const seen = recorded.ladders.find((r) => r.name === l.name);
    const spec = ruleset.spec.rate_limits[l.name];
    const unless = spec?.unless ?? null;
    return {
      name: l.name,
      key: l.key,
      // The windows as the rule file writes them (24h stays 24h).
      steps: (spec?.steps ?? []).map((s) => `${s.action === "block" ? "429" : "captcha"} >${s.limit}/${s.window}`).join(", "),
      penalty: spec?.penalty === undefined ? null : `${spec.penalty.base} ×${spec.penalty.factor} up to ${spec.penalty.max}, -1 level per ${spec.penalty.decay}`,
      unless,
      step: seen?.step ?? (recorded.ladderStepsKnown ? "allow" : null),
      waived: seen?.waived ?? false,
      level: seen?.level ?? null,
    };
  });
  // A ladder the line names but these rules lack (renamed since): shown, so nothing is hidden.
  for (const r of recorded.ladders) {
    if (!lines.some((l) => l.name === r.name)) lines.push({ name: r.name, key: "?", steps: "not in these rules", penalty: null, unless: null, step: r.step, waived: r.waived, level: r.level });
  }
  return lines;
}

/** Explain one input against one rule set (with the recorded ladder and CAPTCHA steps, if any). */
export function explain(ruleset: CompiledRuleset, input: OutcomeInput, recorded: Recorded = { ladderStepsKnown: false, ladders: [], captcha: { status: "none" }, verdict: null, tier: null }): Explanation {
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
  return { rules: ruleset.version, lines, tiers, outcome, ladders: ladderLines(ruleset, recorded), final: finalFor(ruleset, input, recorded), recorded };
}

const STEP_TEXT: Readonly<Record<string, string>> = { allow: "allow", captcha: "captcha (403 challenge)", block: "429 (Retry-After)", penalty: "penalty box (429)" };

function captchaText(e: Explanation): string {
  const c = e.recorded.captcha;
  if (!e.final.captchaAsked) return "not asked";
  if (c.status === "passed") return `asked, solved (${c.via})`;
  if (c.status === "none") return "asked, not solved";
  return `asked, ${c.status} (${c.code})`;
}

/** Whether the recomputed verdict and tier agree with the recorded ones, as a line; null when nothing was recorded. */
export function comparedWithRecorded(e: Explanation): { agrees: boolean; text: string } | null {
  const { verdict, tier } = e.recorded;
  if (verdict === null) return null;
  const f = e.final;
  const recorded = `recorded ${verdict}${tier === null ? "" : `/${tier}`}`;
  if (f.verdict === verdict && (tier === null || e.outcome.tier === tier)) return { agrees: true, text: `${recorded}: agrees` };
  return { agrees: false, text: `${recorded}, recomputed ${f.verdict}/${e.outcome.tier}: DIFFERS (rules changed since, a fail mode at the time, or a step the line does not record)` };
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
  out.push(`rules verdict ${o.verdict}, channel ${o.channel}${o.channels.length > 1 ? ` (then ${o.channels.slice(1).join(", ")})` : ""}, tier asks captcha ${o.captcha ? "yes" : "no"}`);
  for (const err of o.errors) out.push(`error: ${err.dependency} ${err.code} → fail mode ${err.failMode}`);
  const known = e.recorded.ladderStepsKnown;
  out.push(known ? "rate limits (step recorded in the line; the counts live in the store):" : "rate limits (steps not recorded in this input: every ladder taken as allow; explain a decision log line to see them):");
  const lw = Math.max(4, ...e.ladders.map((l) => l.name.length));
  for (const l of e.ladders) {
    const step = l.step === null ? "" : `  → ${l.waived ? "allow (captcha waived: unless held)" : (STEP_TEXT[l.step] ?? l.step)}${l.level !== null && l.level > 0 ? `, penalty level ${l.level}` : ""}`;
    const extra = [l.penalty === null ? "" : `box ${l.penalty}`, l.unless === null ? "" : `unless ${l.unless}`].filter(Boolean).join("; ");
    out.push(`  ${l.name.padEnd(lw)}  key ${l.key.padEnd(7)}  ${l.steps}${extra === "" ? "" : `; ${extra}`}${step}`);
  }
  const f = e.final;
  out.push(`verdict ${f.verdict}, channel ${f.channel}, captcha ${captchaText(e)}${f.ladder.step === "allow" ? "" : `, rate limit ${STEP_TEXT[f.ladder.step] ?? f.ladder.step}`}`);
  out.push(`reasons: ${f.reasons.map((r) => r.code).join(", ") || "none"}`);
  return `${out.join("\n")}\n`;
}
