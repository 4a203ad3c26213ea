/**
 * The events an isolate emits once, before its first request event (the wiring hands
 * them to the auditor: src/gateway/auditor.ts).
 */
import type { SigningKeys } from "../origin/signing-keys.ts";
import type { CompiledRuleset } from "../scoring/ruleset/compile.ts";
import type { AuditInput } from "./events.ts";

/** What an isolate announces before its first request event: rule set and signing key. */
export function startupEvents(ruleset: CompiledRuleset, keys: SigningKeys): AuditInput[] {
  const ids = { request_id: null, decision_id: null } as const;
  return [
    {
      type: "ruleset.loaded",
      ...ids,
      data: {
        version: ruleset.version,
        rules: ruleset.rules.length,
        shadow_rules: ruleset.rules.filter((r) => r.mode === "shadow").length,
        tiers: ruleset.tiers.map((t) => t.name),
      },
    },
    {
      type: "key.in_use",
      ...ids,
      data: {
        kid: keys.current.kid,
        alg: keys.current.alg,
        published: keys.publicJwks.flatMap((k) => (typeof k.kid === "string" ? [k.kid] : [])),
      },
    },
  ];
}
