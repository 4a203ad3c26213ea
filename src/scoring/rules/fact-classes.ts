/**
 * Which kind of facts a rule reads, derived from the identifiers its CEL condition
 * references. Policy caps what each kind may do to the answer the client sees
 * (docs/architecture.md, "What the client sees"):
 *
 * - request-side facts (the request, its IP/device/network, counts the requests
 *   themselves create, and `device.known`, a link to the account that a stranger cannot
 *   forge: the account's signed device cookie) may lead to a challenge, a 429 or a deny;
 * - account-side facts (`account.*`, and the `geo` facts computed from the account's
 *   history) may only raise the tier and channel told to the origin, or deny silently
 *   (the uniform 202), never challenge: otherwise the answer tells a stranger whether the
 *   address has an account;
 * - inflatable facts (counts keyed by account: `velocity.<account window>`,
 *   `distinct.<per-account count>`), which anyone can raise by sending resets for the
 *   address, may raise friction up to a CAPTCHA, never a deny or a 429: otherwise a flood
 *   would lock the owner out. The `completion` rates are inflatable too: anyone who sends
 *   resets from a country or network and never finishes them lowers its rates, so a rule
 *   on them may ask that network for a CAPTCHA, never lock its people out.
 */
import type { RulesetSpec } from "./schema.ts";

/** What a condition reads, as the two flags policy needs (both false: request-side only). */
export interface FactReads {
  /** Reads account history or the privileged tag. */
  readonly account: boolean;
  /** Reads a count others can inflate for the account. */
  readonly inflatable: boolean;
}

/** Request-side only: the visible part of the score. */
export const REQUEST_ONLY: FactReads = { account: false, inflatable: false };

/** `geo` facts computed from the account's history (the rest of `geo` is the request's). */
const GEO_FROM_HISTORY = new Set(["new_country", "new_asn", "distance_km", "speed_kmh"]);

/** The class of one fact (`section.field`); `field` null means the whole section. */
export function factReads(spec: Pick<RulesetSpec, "windows" | "distinct">, section: string, field: string | null): FactReads {
  switch (section) {
    case "account":
      return { account: true, inflatable: false };
    case "completion":
      return { account: false, inflatable: true };
    case "geo":
      return { account: field === null || GEO_FROM_HISTORY.has(field), inflatable: false };
    case "velocity":
    case "distinct": {
      const table: Record<string, { key: string }> = section === "velocity" ? spec.windows : spec.distinct;
      const byAccount = field === null ? Object.values(table).some((w) => w.key === "account") : table[field]?.key === "account";
      return { account: false, inflatable: byAccount };
    }
    default:
      return REQUEST_ONLY;
  }
}

/** A node of the CEL parser's AST (`@marcbachmann/cel-js`): `op` and its `args`. */
interface AstNode {
  readonly op: string;
  readonly args: unknown;
}

function isNode(value: unknown): value is AstNode {
  return typeof value === "object" && value !== null && typeof (value as { op?: unknown }).op === "string";
}

/**
 * The fact references in a parsed condition: `section.field` for a field access on a
 * context section, `section` alone when the section itself is used (e.g. indexed with a
 * computed key), which counts as reading every field.
 */
export function referencedFacts(ast: unknown, sections: ReadonlySet<string>): { section: string; field: string | null }[] {
  const out: { section: string; field: string | null }[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    if (!isNode(value)) return;
    const args = value.args;
    if (value.op === "." && Array.isArray(args) && isNode(args[0]) && args[0].op === "id" && typeof args[1] === "string") {
      const section = args[0].args;
      if (typeof section === "string" && sections.has(section)) {
        out.push({ section, field: args[1] });
        return;
      }
    }
    if (value.op === "id") {
      if (typeof args === "string" && sections.has(args)) out.push({ section: args, field: null });
      return;
    }
    visit(args);
  };
  visit(ast);
  return out;
}

/** What a parsed condition reads. A condition whose AST cannot be read counts as reading everything. */
export function conditionReads(spec: Pick<RulesetSpec, "windows" | "distinct">, sections: ReadonlySet<string>, ast: unknown): FactReads {
  if (!isNode(ast)) return { account: true, inflatable: true };
  let account = false;
  let inflatable = false;
  for (const ref of referencedFacts(ast, sections)) {
    const reads = factReads(spec, ref.section, ref.field);
    account ||= reads.account;
    inflatable ||= reads.inflatable;
  }
  return { account, inflatable };
}
