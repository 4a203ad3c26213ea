import { describe, expect, it } from "vitest";
import type { EntityKeys } from "../../src/context/index.ts";
import { planVelocity, velocityFacts } from "../../src/scoring/signals/velocity.ts";

const KEYS: EntityKeys = { account: "A", ip: "I", subnet: "S", net56: null, net48: null, device: "D", asn: "asn:3320" };
const windows = [
  { name: "account_1h", key: "account" as const, windowMs: 3_600_000 },
  { name: "ip_10m", key: "ip" as const, windowMs: 600_000 },
  { name: "asn_10m", key: "asn" as const, windowMs: 600_000 },
  { name: "global_1m", key: "global" as const, windowMs: 60_000 },
];
const distinct = [
  { name: "accounts_per_ip_1h", key: "ip" as const, member: "account" as const, windowMs: 3_600_000 },
  { name: "ips_per_account_24h", key: "account" as const, member: "ip" as const, windowMs: 86_400_000 },
];

describe("velocity plan", () => {
  it.each([
    ["every entity known", KEYS, ["account_1h", "ip_10m", "asn_10m", "global_1m"], ["accounts_per_ip_1h", "ips_per_account_24h"]],
    ["no client IP: IP windows and sets are skipped", { ...KEYS, ip: null, subnet: null }, ["account_1h", "asn_10m", "global_1m"], []],
    ["no ASN", { ...KEYS, asn: null }, ["account_1h", "ip_10m", "global_1m"], ["accounts_per_ip_1h", "ips_per_account_24h"]],
  ])("%s", (_name, keys, hitNames, distinctNames) => {
    const plan = planVelocity(keys, windows, distinct);
    expect(plan.hitNames).toEqual(hitNames);
    expect(plan.distinctNames).toEqual(distinctNames);
    // Store keys carry the entity kind and the hashed key, never anything else.
    for (const h of plan.hits) expect(h.key).toMatch(/^v:(account|ip|asn|global):/);
  });

  it("names the store's answers in order; untouched windows read 0 to rules", () => {
    const plan = planVelocity({ ...KEYS, ip: null }, windows, distinct);
    expect(velocityFacts(plan, [3, 1, 99], [])).toEqual({
      velocity: { account_1h: 3, asn_10m: 1, global_1m: 99 },
      distinct: {},
    });
  });
});
