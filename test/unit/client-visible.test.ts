// Two policy invariants, as properties over random facts (docs/architecture.md, "What
// the client sees"; issues 13.2 and 16.2):
//  1. no account enumeration: for a request without a link to the account (no known
//     device cookie), what the client sees is the same whatever the account's state;
//  2. no lockout by flood: counts others can inflate for an account raise friction up to
//     a CAPTCHA, never to a deny or a 429; the owner's known device or network goes
//     through with at most a CAPTCHA, whatever the flood.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CaptchaState } from "../../src/captcha/gate.ts";
import { type Escalated, escalate } from "../../src/scoring/policy/escalation.ts";
import { conditionReads } from "../../src/scoring/rules/fact-classes.ts";
import type { LadderSummary } from "../../src/scoring/policy/rate-limit.ts";
import type { Facts } from "../../src/scoring/rules/context-schema.ts";
import { outcomeFor } from "../../src/scoring/verdict.ts";
import { compileShipped, ORDINARY } from "./support/rulesets.ts";

const live = compileShipped();

/** What the client sees under `respond: uniform`: a 403 challenge, a 429 with its Retry-After, or the one 202. */
function visible(e: Escalated): string {
  if (e.verdict === "challenge") return "403";
  if (e.retryAfter > 0) return `429 Retry-After: ${e.retryAfter}`;
  return "202";
}

const count = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 2000 }));

/** Request-side facts: the request, its IP, device (without the account link), network and request-made counts. */
const requestSide = fc.record({
  ip: fc.record({
    known: fc.boolean(),
    version: fc.constantFrom(4, 6),
    tor_exit: fc.boolean(),
    hosting: fc.boolean(),
    vpn: fc.boolean(),
    known_bad: fc.boolean(),
  }),
  device: fc.record({
    ua_length: fc.constantFrom(0, 11, 111),
    browser: fc.constantFrom("Chrome", "curl", "Firefox"),
    browser_major: fc.constantFrom(0, 130),
    automation: fc.boolean(),
    headless: fc.boolean(),
    ch_mismatch: fc.boolean(),
    cookie_invalid: fc.boolean(),
    returning: fc.boolean(),
  }),
  headers: fc.record({ ua_invalid_chars: fc.boolean(), accept_language_invalid: fc.boolean(), missing_browser_headers: fc.integer({ min: 0, max: 3 }) }),
  geo: fc.record({ known: fc.boolean(), country: fc.constantFrom("US", "GB", "BR", "JP", ""), asn: fc.constantFrom(0, 7922, 16509) }),
  velocity: fc.record({ ip_10m: count, subnet_1h: count, device_1h: count, asn_10m: count, global_1m: count }),
  distinct: fc.record({ accounts_per_ip_1h: count, accounts_per_subnet_1h: count, accounts_per_device_1h: count }),
  budget: fc.record({ sms_otp: count }),
});

/** Counts anyone can inflate for an account by sending resets for its address. */
const inflatable = fc.record({
  velocity: fc.record({ account_1h: count, account_24h: count }),
  distinct: fc.record({ ips_per_account_24h: count, devices_per_account_24h: count }),
});

/** What the account's history (and the origin's tag) says; `geo` holds the facts computed from it. */
const accountSide = fc.record({
  account: fc.record({
    has_history: fc.boolean(),
    privileged: fc.boolean(),
    known_devices: fc.integer({ min: 0, max: 5 }),
    known_countries: fc.integer({ min: 0, max: 5 }),
    hours_since_verified: fc.oneof(fc.constant(-1), fc.double({ min: 0, max: 10_000, noNaN: true })),
  }),
  geo: fc.record({
    new_country: fc.boolean(),
    new_asn: fc.boolean(),
    distance_km: fc.double({ min: 0, max: 20_000, noNaN: true }),
    speed_kmh: fc.double({ min: 0, max: 50_000, noNaN: true }),
  }),
});

/** The never-seen address: nothing on record. */
const MADE_UP = {
  account: { has_history: false, privileged: false, known_devices: 0, known_countries: 0, hours_since_verified: -1 },
  geo: { new_country: false, new_asn: false, distance_km: 0, speed_kmh: 0 },
};

const ladder: fc.Arbitrary<LadderSummary> = fc.constantFrom<LadderSummary["step"]>("allow", "captcha", "block", "penalty").map((step) => ({
  step,
  retryAfter: step === "block" || step === "penalty" ? 60 : 0,
  reasons: [],
  penalize: [],
}));

const captcha: fc.Arbitrary<CaptchaState> = fc.constantFrom<CaptchaState>(
  { status: "none" },
  { status: "passed", via: "token" },
  { status: "failed", code: "CAPTCHA_REPLAYED" },
  { status: "error", code: "CAPTCHA_TIMEOUT" },
);

const storeFailed = fc.boolean();

type Parts = Record<string, Record<string, unknown>>;

/** ORDINARY, then each part's sections merged field by field, in order. */
function merge(...parts: Parts[]): Facts {
  const out: Record<string, Record<string, unknown>> = { ...ORDINARY };
  for (const part of parts) {
    for (const [section, fields] of Object.entries(part)) out[section] = { ...out[section], ...fields };
  }
  return out as Facts;
}

function decide(facts: Facts, ladderSummary: LadderSummary, captchaState: CaptchaState, failed: boolean): Escalated {
  const failures = failed ? [{ dependency: "store" as const, code: "STORE_TIMEOUT" }] : [];
  const outcome = outcomeFor(live, { facts, accountKey: null, failures });
  return escalate(outcome, ladderSummary, captchaState, "challenge");
}

const NO_FLOOD = { velocity: { account_1h: 1, account_24h: 1 }, distinct: { ips_per_account_24h: 1, devices_per_account_24h: 1 } };

describe("the shipped rules' fact kinds", () => {
  it("classes each rule by the facts its condition reads", () => {
    const reads = Object.fromEntries(live.rules.map((r) => [r.id, r.reads]));
    expect(reads["ua-automation"]).toEqual({ account: false, inflatable: false });
    expect(reads["device-known"]).toEqual({ account: false, inflatable: false }); // the owner's signed cookie: a link
    expect(reads["accounts-per-ip"]).toEqual({ account: false, inflatable: false }); // keyed by IP: the request's own count
    expect(reads["velocity-account"]).toEqual({ account: false, inflatable: true });
    expect(reads["velocity-account-flood"]).toEqual({ account: false, inflatable: true });
    expect(reads["ips-per-account"]).toEqual({ account: false, inflatable: true });
    expect(reads["geo-new-country"]).toEqual({ account: true, inflatable: false });
    expect(reads["geo-impossible-travel"]).toEqual({ account: true, inflatable: false });
    expect(reads["device-new-for-account"]).toEqual({ account: true, inflatable: false });
    // A network's completion rates: anyone lowers them by sending resets from it and never finishing.
    expect(reads["network-resets-not-completed"]).toEqual({ account: false, inflatable: true });
    expect(reads["country-resets-not-completed"]).toEqual({ account: false, inflatable: true });
  });

  it("counts a whole section, or a condition it cannot read, as reading everything in it", () => {
    const spec = live.spec;
    const sections = new Set(Object.keys(live.schema));
    expect(conditionReads(spec, sections, null)).toEqual({ account: true, inflatable: true });
    const ast = { op: "id", args: "velocity" };
    expect(conditionReads(spec, sections, ast)).toEqual({ account: false, inflatable: true });
  });
});

describe("no account enumeration through the verdict (13.2)", () => {
  it("a request without the account's device cookie gets the same answer whatever the account's state", () => {
    fc.assert(
      fc.property(requestSide, inflatable, accountSide, ladder, captcha, storeFailed, (req, flood, acct, l, c, failed) => {
        const stranger = { device: { known: false } };
        const real = visible(decide(merge(req, flood, acct, stranger), l, c, failed));
        const madeUp = visible(decide(merge(req, flood, MADE_UP, stranger), l, c, failed));
        expect(real).toBe(madeUp);
      }),
      { numRuns: 3000 },
    );
  });

  it("a privileged account with history answers a curl stranger, and a browser, like a made-up address", () => {
    const curl = { device: { ua_length: 11, browser: "curl", automation: true, known: false } };
    const real = {
      account: { has_history: true, privileged: true, known_devices: 2, known_countries: 1, hours_since_verified: 30 },
      geo: { new_country: false, new_asn: false, distance_km: 0, speed_kmh: 0 },
    };
    const abroad = { ...real, geo: { ...real.geo, new_country: true } };
    const none: LadderSummary = { step: "allow", retryAfter: 0, reasons: [], penalize: [] };
    const answer = (facts: Facts) => visible(decide(facts, none, { status: "none" }, false));
    // Before the split: 403 for the real account (its history scored on the privileged table), 202 for a made-up one.
    expect([answer(merge(curl, real)), answer(merge(curl, MADE_UP))]).toEqual(["202", "202"]);
    expect([answer(merge(abroad)), answer(merge(MADE_UP))]).toEqual(["202", "202"]);
  });
});

describe("the owner is never locked out by what attackers send (16.2)", () => {
  it("inflatable counts raise friction up to a CAPTCHA, never to a deny or a 429", () => {
    fc.assert(
      fc.property(requestSide, accountSide, inflatable, fc.boolean(), ladder, captcha, storeFailed, (req, acct, flood, known, l, c, failed) => {
        const link = { device: { known } };
        const calm = decide(merge(req, acct, NO_FLOOD, link), l, c, failed);
        const flooded = decide(merge(req, acct, flood, link), l, c, failed);
        if (calm.verdict !== "deny") expect(flooded.verdict).not.toBe("deny");
        expect(flooded.retryAfter).toBe(calm.retryAfter);
      }),
      { numRuns: 3000 },
    );
  });

  it("a network's or country's collapsed completion rates raise friction up to a CAPTCHA, never to a deny or a 429", () => {
    const rate = fc.double({ min: 0, max: 1, noNaN: true });
    const collapsed = fc.record({
      completion: fc.record({
        country_sent: count, country_completed: count, country_rate: rate, asn_sent: count, asn_completed: count, asn_rate: rate,
        country_any_sent: count, country_any_completed: count, country_any_rate: rate, asn_any_sent: count, asn_any_completed: count, asn_any_rate: rate,
        site_any_completed: count,
      }),
    });
    fc.assert(
      fc.property(requestSide, accountSide, collapsed, fc.boolean(), ladder, captcha, storeFailed, (req, acct, campaign, known, l, c, failed) => {
        const link = { device: { known } };
        const calm = decide(merge(req, acct, NO_FLOOD, link), l, c, failed);
        const pumped = decide(merge(req, acct, NO_FLOOD, campaign, link), l, c, failed);
        if (calm.verdict !== "deny") expect(pumped.verdict).not.toBe("deny");
        expect(pumped.retryAfter).toBe(calm.retryAfter);
      }),
      { numRuns: 3000 },
    );
  });

  it("a browser on the account's known device or network goes through with at most a CAPTCHA, whatever the flood", () => {
    const browser = fc.record({
      geo: fc.record({ country: fc.constantFrom("US", "GB", "JP"), asn: fc.constantFrom(7922, 2856) }),
      budget: fc.record({ sms_otp: fc.integer({ min: 0, max: 100 }) }),
    });
    const owner = fc.oneof(
      // the account's signed device cookie, travelling or not
      accountSide.map((a) => ({ ...a, account: { ...a.account, has_history: true, known_devices: Math.max(1, a.account.known_devices) }, device: { known: true } })),
      // the account's known network (ASN and country on record), on a new device
      accountSide.map((a) => ({
        ...a,
        account: { ...a.account, has_history: true, known_countries: Math.max(1, a.account.known_countries) },
        geo: { ...a.geo, new_country: false, new_asn: false, distance_km: 0, speed_kmh: 0 },
        device: { known: false },
      })),
    );
    fc.assert(
      fc.property(browser, owner, inflatable, captcha, (req, acct, flood, c) => {
        const open: LadderSummary = { step: "allow", retryAfter: 0, reasons: [], penalize: [] };
        const e = decide(merge(req, acct, flood), open, c, false);
        expect(["allow", "challenge"]).toContain(e.verdict);
        expect(e.retryAfter).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });
});
