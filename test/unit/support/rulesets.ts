// Build compiled rule sets from YAML text for tests, through the same loader and
// compiler the CLI and the build use.
import { readFileSync } from "node:fs";
import { compileSpec } from "../../../src/cli/rule-files.ts";
import type { CompiledRuleset } from "../../../src/scoring/ruleset/compile.ts";
import type { Facts } from "../../../src/scoring/rules/context-schema.ts";
import { formatError, loadRuleset, type RuleFile } from "../../../src/scoring/ruleset/load.ts";

/** The shipped rules/*.yaml files. */
export const shipped: RuleFile[] = ["policy.yaml", "rules.yaml", "account.yaml", "overrides.yaml", "experiments.yaml"].map((name) => ({
  path: `rules/${name}`,
  text: readFileSync(`rules/${name}`, "utf8"),
}));

/** The shipped policy.yaml, optionally edited, plus extra files; throws with file:line:col on errors. */
export function compileYaml(extra: Record<string, string>, editPolicy: (text: string) => string = (t) => t): CompiledRuleset {
  const policy = shipped[0] as RuleFile;
  const files = [{ path: policy.path, text: editPolicy(policy.text) }, ...Object.entries(extra).map(([path, text]) => ({ path, text }))];
  const result = loadRuleset(files);
  if (!result.ok) throw new Error(result.errors.map(formatError).join("\n"));
  return compileSpec(result.spec);
}

/** The shipped rule set. */
export function compileShipped(): CompiledRuleset {
  const result = loadRuleset(shipped);
  if (!result.ok) throw new Error(result.errors.map(formatError).join("\n"));
  return compileSpec(result.spec);
}

/** An ordinary browser request from the US: nothing fires. */
export const ORDINARY: Facts = {
  request: { path: "/password/reset", method: "POST" },
  ip: { known: true, version: 4 },
  device: { ua_length: 111, browser: "Chrome", browser_major: 130, os: "Windows", type: "desktop", automation: false, headless: false, known: false },
  geo: { known: true, country: "US", region: "CA", asn: 7922, as_org: "Comcast", new_country: false, new_asn: false, distance_km: 0, speed_kmh: 0 },
  account: { has_history: true },
  velocity: { account_1h: 1, account_24h: 1, ip_10m: 1 },
  distinct: { accounts_per_ip_1h: 1 },
  budget: { sms_otp: 1 },
};

/** ORDINARY with some sections changed (merged field by field). */
export function facts(over: Facts = {}): Facts {
  const out: Record<string, Facts[string]> = { ...ORDINARY };
  for (const [section, fields] of Object.entries(over)) out[section] = { ...ORDINARY[section], ...fields };
  return out;
}
