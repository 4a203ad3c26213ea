// The OCSF mapping: class, activity, type_uid and the security-control enums per event
// type, pinned against OCSF 1.3 (docs/audit.md has the same table).
import { describe, expect, it } from "vitest";
import type { AuditInput } from "../../src/audit/events.ts";
import { toOcsf } from "../../src/audit/ocsf.ts";
import { decision, event } from "./support/events.ts";

const ids = { request_id: "req-9", decision_id: "dec-9" } as const;
const none = { request_id: null, decision_id: null } as const;

const cases: [string, AuditInput, Record<string, unknown>][] = [
  ["forward ok", { type: "forward", ...ids, data: { origin: "https://o.example:8443", ok: true, status: 200, error: null, ms: 12, respond: "uniform", attempts: 1, lost: false } },
    { class_uid: 4002, activity_id: 6, type_uid: 400206, disposition_id: 1, status_id: 1, http_response: { code: 200 } }],
  ["forward timeout", { type: "forward", ...ids, data: { origin: "https://o.example", ok: false, status: null, error: "ORIGIN_TIMEOUT", ms: 5000, respond: "uniform", attempts: 1, lost: false } },
    { class_uid: 4002, disposition_id: 27, status_id: 2, status_detail: "ORIGIN_TIMEOUT", severity_id: 3 }],
  ["forward lost", { type: "forward", ...ids, data: { origin: "https://o.example", ok: false, status: 503, error: "ORIGIN_ERROR", ms: 9, respond: "uniform", attempts: 3, lost: true } },
    { class_uid: 4002, disposition_id: 27, status_id: 2, status_detail: "ORIGIN_ERROR (reset lost after 3 attempts)", severity_id: 4, count: 3, http_response: { code: 503 } }],
  ["challenge issued", { type: "challenge.issued", ...ids, data: { kind: "captcha", provider: null } },
    { class_uid: 4002, action_id: 2, disposition_id: 22, disposition: "Captcha" }],
  ["challenge solved", { type: "challenge.solved", ...ids, data: { kind: "captcha", provider: "turnstile", success: true, error: null, via: "token" } },
    { class_uid: 4002, action_id: 1, disposition_id: 1, status_id: 1 }],
  ["challenge failed", { type: "challenge.solved", ...ids, data: { kind: "captcha", provider: "turnstile", success: false, error: "invalid-input-response", via: "token" } },
    { class_uid: 4002, action_id: 2, disposition_id: 2, status_id: 2, status_detail: "invalid-input-response" }],
  ["rate-limit deny", { type: "ratelimit.step", ...ids, data: { ladder: "ip", step: 3, action: "deny", key: "ip", retry_after_s: 600 } },
    { class_uid: 4002, action_id: 2, disposition_id: 2, severity_id: 3 }],
  ["rate-limit delay", { type: "ratelimit.step", ...ids, data: { ladder: "ip", step: 1, action: "delay", key: "ip", retry_after_s: 5 } },
    { class_uid: 4002, action_id: 1, disposition_id: 14 }],
  ["rate-limit CAPTCHA step waived", { type: "ratelimit.step", ...ids, data: { ladder: "account", step: 1, action: "waived", key: "account", retry_after_s: null } },
    { class_uid: 4002, action_id: 1, disposition_id: 1, severity_id: 1 }],
  ["outcome completed", { type: "outcome.received", ...ids, data: { outcome: "completed", channel: "sms_otp", cost: 0.05, currency: "USD", account: "A".repeat(22), experiment: null } },
    { class_uid: 3001, activity_id: 4, type_uid: 300104, status_id: 1, user: { uid: "A".repeat(22), type: "Other", type_id: 99 } }],
  ["outcome fraud", { type: "outcome.received", ...ids, data: { outcome: "fraud_reported", channel: null, cost: null, currency: null, account: null, experiment: null } },
    { class_uid: 3001, status_id: 2, severity_id: 4 }],
  ["rule set loaded", { type: "ruleset.loaded", ...none, data: { version: "abc", rules: 11, shadow_rules: 0, tiers: ["low"] } },
    { class_uid: 6002, activity_id: 3, type_uid: 600203, app: { name: "riskgate", vendor_name: "riskgate", version: "abc" } }],
  ["key in use", { type: "key.in_use", ...none, data: { kid: "k1", alg: "ES256", published: ["k1"] } },
    { class_uid: 3004, activity_id: 10, type_uid: 300410 }],
  ["key rotated", { type: "key.rotated", ...none, data: { kid: "k2", previous: "k1" } },
    { class_uid: 3004, activity_id: 3, type_uid: 300403, entity: { uid: "k2", name: "k2", type: "decision_signing_key" } }],
  ["admin login failed", { type: "admin.login", ...none, data: { success: false } },
    { class_uid: 3002, activity_id: 1, status_id: 2 }],
  ["live block added", { type: "list.changed", ...none, data: { action: "add", kind: "cidr", target: "203.0.113.0/24", list: "block", effect: "add", reason: "incident 42", source: "cli", expires_at: null } },
    { class_uid: 3004, activity_id: 1, type_uid: 300401, severity_id: 3, entity: { uid: "block:203.0.113.0/24", type: "reputation_list_entry" }, comment: "incident 42" }],
  ["live entry removed", { type: "list.changed", ...none, data: { action: "remove", kind: "asn", target: "AS64500", list: "known_bad", effect: "add", reason: "released", source: "dashboard", expires_at: null } },
    { class_uid: 3004, activity_id: 4, type_uid: 300404, severity_id: 2 }],
  ["penalty box lifted", { type: "penalty.lifted", ...none, data: { kind: "ip", target: "x0aBcD", ladders: ["ip"], boxed: 1, reason: "false positive", source: "cli" } },
    { class_uid: 3004, activity_id: 3, type_uid: 300403, severity_id: 2, entity: { uid: "penalty:ip:x0aBcD", type: "penalty_box" }, comment: "false positive" }],
];

describe("toOcsf", () => {
  it.each(cases)("%s", (_name, input, expected) => {
    expect(toOcsf(event(input))).toMatchObject(expected);
  });

  it.each([
    ["allow", 1, 1, 1],
    ["challenge", 2, 22, 2],
    ["deny", 2, 2, 3],
  ] as const)("a %s decision is action %i, disposition %i, severity %i", (verdict, action, disposition, severity) => {
    const ocsf = toOcsf(decision({ verdict }));
    expect(ocsf).toMatchObject({ class_uid: 4002, category_uid: 4, action_id: action, disposition_id: disposition, severity_id: severity });
  });

  it("carries the ids receivers correlate and de-duplicate on, and the hashed identifiers only", () => {
    const e = decision({ reasons: [{ code: "VELOCITY_IP", rule: "velocity-ip", weight: 30 }] }, { seq: 41 });
    const ocsf = toOcsf(e);
    expect(ocsf.metadata).toMatchObject({ uid: e.id, correlation_uid: "dec-1", sequence: 41, version: "1.3.0" });
    expect(ocsf.time).toBe(Date.parse(e.ts));
    expect(ocsf).toMatchObject({ src_endpoint: { uid: "B".repeat(22), location: { country: "NL" }, autonomous_system: { number: 64500 } } });
    expect(ocsf.unmapped).toMatchObject({ riskgate: { source: "isolate-a", seq: 41, data: { reasons: [{ rule: "velocity-ip" }] } } });
  });

  it("maps the account as counted to actor.user.uid_alt; the experiment arm travels in unmapped", () => {
    const arm = { id: "medium-email-vs-sms", arm: "sms" };
    const ocsf = toOcsf(decision({ account_counted: "D".repeat(22), experiment: arm }));
    expect(ocsf.actor).toEqual({ user: { uid: "A".repeat(22), uid_alt: "D".repeat(22), type: "Other", type_id: 99 } });
    expect(ocsf.unmapped).toMatchObject({ riskgate: { data: { experiment: arm } } });
  });

  it("omits endpoint fields riskgate did not know", () => {
    const ocsf = toOcsf(decision({ ip: null, country: null, asn: null }));
    expect(ocsf.src_endpoint).toEqual({});
  });
});
