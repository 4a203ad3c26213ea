/**
 * Checks the schema library cannot express: unique ids, tiers that cover every score,
 * declared channels, a privileged table at least as strict as the normal one, and a
 * candidate that can run on the live rule set's facts. Problems carry a path in the
 * merged spec; the loader turns it into `file:line:col`.
 */
import { candidateRateLimitProblems, rateLimitProblems } from "../policy/rate-limit-check.ts";
import { experimentProblems } from "../experiments/validate.ts";
import { isBuiltinReasonCode, REASON_CODE_PATTERN, REASON_CODES } from "../../shared/decision.ts";
import type { PathItem, Problem } from "../rules/locate.ts";
import type { RulesetSpec, TierSpec } from "../rules/schema.ts";

export type { Problem } from "../rules/locate.ts";

const SEVERITY = { allow: 0, challenge: 1, deny: 2 } as const;

/** Everything wrong with a spec that the schema accepted. */
export function semanticProblems(spec: RulesetSpec): Problem[] {
  const problems: Problem[] = [];
  const ids = new Map<string, string>();
  const claim = (id: string, where: string, path: PathItem[]) => {
    const first = ids.get(id);
    if (first !== undefined) problems.push({ path, message: `duplicate id "${id}" (first used by ${first})` });
    else ids.set(id, where);
  };
  spec.rules.forEach((r, i) => {
    claim(r.id, `rule ${i + 1}`, ["rules", i, "id"]);
  });
  spec.overrides.forEach((o, i) => {
    claim(o.id, `override ${i + 1}`, ["overrides", i, "id"]);
  });
  problems.push(...reasonProblems(spec));
  problems.push(...tierProblems(spec, spec.tiers, ["tiers"]));
  const names = new Set(spec.tiers.map((t) => t.name));
  spec.overrides.forEach((o, i) => {
    if (o.tier !== undefined && !names.has(o.tier)) {
      problems.push({ path: ["overrides", i, "tier"], message: `unknown tier "${o.tier}" (tiers: ${[...names].join(", ")})` });
    }
  });
  if (spec.privileged !== undefined) {
    const privileged = spec.privileged.tiers;
    const tierErrors = tierProblems(spec, privileged, ["privileged", "tiers"]);
    problems.push(...tierErrors);
    if (tierErrors.length === 0) problems.push(...strictnessProblems(spec.tiers, privileged));
  }
  problems.push(...rateLimitProblems(spec));
  problems.push(...experimentProblems(spec));
  return problems;
}

/**
 * Reason codes: a declared code must be new (not a built-in), and every code a rule or
 * override names must be built-in or declared. An unknown code gets the closest known
 * one as a suggestion, not the whole list.
 */
function reasonProblems(spec: RulesetSpec): Problem[] {
  const problems: Problem[] = [];
  for (const code of Object.keys(spec.reasons)) {
    if (!REASON_CODE_PATTERN.test(code) || code.length > 64) {
      problems.push({ path: ["reasons", code], message: `reasons.${code}: expected an UPPER_SNAKE reason code of at most 64 characters, e.g. RECENT_RESET_FROM_HOSTING` });
    } else if (isBuiltinReasonCode(code)) {
      problems.push({ path: ["reasons", code], message: `"${code}" is a built-in reason code (docs/reason-codes.md); declare only new codes under reasons:` });
    }
  }
  const known = [...REASON_CODES, ...Object.keys(spec.reasons)];
  const check = (code: string | undefined, path: PathItem[]) => {
    if (code === undefined || isBuiltinReasonCode(code) || Object.hasOwn(spec.reasons, code)) return;
    const near = closest(code, known);
    const hint = near === null ? "" : ` (did you mean ${near}?)`;
    problems.push({ path, message: `unknown reason code "${code}"${hint}; declare a new code with its description under reasons: (rules/reasons.yaml)` });
  };
  spec.rules.forEach((r, i) => {
    check(r.reason, ["rules", i, "reason"]);
  });
  spec.overrides.forEach((o, i) => {
    check(o.reason, ["overrides", i, "reason"]);
  });
  return problems;
}

/**
 * The candidate nearest to `word`: one that contains it (or that it contains) counts as
 * one edit away; otherwise by edit distance, within a third of its length. Null when none is near.
 */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = c.includes(word) || word.includes(c) ? Math.min(1, editDistance(word, c)) : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function tierProblems(spec: RulesetSpec, tiers: readonly TierSpec[], at: PathItem[]): Problem[] {
  const problems: Problem[] = [];
  const names = new Set<string>();
  const thresholds = new Set<number>();
  tiers.forEach((tier, i) => {
    if (names.has(tier.name)) problems.push({ path: [...at, i, "name"], message: `duplicate tier "${tier.name}"` });
    names.add(tier.name);
    if (thresholds.has(tier.min_score)) problems.push({ path: [...at, i, "min_score"], message: `two tiers start at ${tier.min_score}` });
    thresholds.add(tier.min_score);
    tier.channels.forEach((name, j) => {
      if (spec.channels[name] === undefined) {
        const declared = Object.keys(spec.channels).join(", ") || "none";
        problems.push({ path: [...at, i, "channels", j], message: `unknown channel "${name}" (declared under channels: ${declared})` });
      }
    });
  });
  // Tiers must cover every score: the lowest threshold has to catch everything below it.
  const lowest = Math.min(...tiers.map((t) => t.min_score));
  if (lowest > 0) {
    const i = tiers.findIndex((t) => t.min_score === lowest);
    problems.push({ path: [...at, i, "min_score"], message: `gap: scores below ${lowest} match no tier (the lowest tier must start at 0 or below)` });
  }
  return problems;
}

/** The tier a score falls in (tiers in any order). */
export function tierAt(tiers: readonly TierSpec[], score: number): TierSpec | undefined {
  let best: TierSpec | undefined;
  for (const t of tiers) if (score >= t.min_score && (best === undefined || t.min_score > best.min_score)) best = t;
  return best ?? tiers.reduce<TierSpec | undefined>((low, t) => (low === undefined || t.min_score < low.min_score ? t : low), undefined);
}

/** At every score, a privileged account must get a verdict (and CAPTCHA) at least as strict. */
function strictnessProblems(normal: readonly TierSpec[], privileged: readonly TierSpec[]): Problem[] {
  const scores = [...new Set([...normal, ...privileged].map((t) => t.min_score))].sort((a, b) => a - b);
  for (const score of scores) {
    const n = tierAt(normal, score);
    const p = tierAt(privileged, score);
    if (n === undefined || p === undefined) continue;
    const weaker = SEVERITY[p.verdict] < SEVERITY[n.verdict] || (n.captcha && !p.captcha && p.verdict !== "deny");
    if (weaker) {
      return [{
        path: ["privileged", "tiers", privileged.indexOf(p)],
        message: `privileged tier "${p.name}" is weaker than tier "${n.name}" at score ${score} (${p.verdict}${p.captcha ? "+captcha" : ""} vs ${n.verdict}${n.captcha ? "+captcha" : ""}); privileged accounts must get a stricter table`,
      }];
    }
  }
  return [];
}

/**
 * A candidate runs on the live rule set's facts and store counts (no second store
 * call), so it may only read windows, distinct counts and budgets that live collects.
 */
export function candidateProblems(live: RulesetSpec, candidate: RulesetSpec): Problem[] {
  const problems: Problem[] = [...candidateRateLimitProblems(live, candidate)];
  for (const [name, w] of Object.entries(candidate.windows)) {
    const l = live.windows[name];
    if (l === undefined || l.key !== w.key || l.window !== w.window) {
      problems.push({ path: ["windows", name], message: `window "${name}" differs from the live rule set; a candidate reuses live counts, so change windows in the live rules first` });
    }
  }
  for (const [name, d] of Object.entries(candidate.distinct)) {
    const l = live.distinct[name];
    if (l === undefined || l.key !== d.key || l.member !== d.member || l.window !== d.window) {
      problems.push({ path: ["distinct", name], message: `distinct count "${name}" differs from the live rule set; a candidate reuses live counts` });
    }
  }
  for (const [name, c] of Object.entries(candidate.channels)) {
    if (c.budget === undefined) continue;
    const l = live.channels[name];
    if (l?.budget === undefined || l.budget.window !== c.budget.window) {
      problems.push({ path: ["channels", name, "budget"], message: `budget of "${name}" needs a live budget with the same window (${l?.budget?.window ?? "none"})` });
    } else if (l.countries !== undefined && (c.countries ?? []).some((cc) => !l.countries?.includes(cc))) {
      problems.push({ path: ["channels", name, "countries"], message: `a budgeted candidate channel cannot allow countries the live channel does not count` });
    } else if (l.countries !== undefined && c.countries === undefined) {
      problems.push({ path: ["channels", name], message: `a budgeted candidate channel must list countries within the live list` });
    }
  }
  return problems;
}
