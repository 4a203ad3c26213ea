/**
 * The rule-file schema. Rule files are YAML (see docs/rules.md); this schema is the
 * single definition of what they may contain. Parsed once at build time by the CLI
 * (`riskgate rules build`), never per request.
 */
import { z } from "zod";
import { REASON_CODE_PATTERN } from "../../shared/decision.ts";
import { experimentsSchema } from "./experiment-schema.ts";
import { DURATION_PATTERN } from "./duration.ts";

const duration = z
  .string()
  .regex(DURATION_PATTERN, "expected a duration such as 500ms, 30s, 10m, 1h or 7d");

const failMode = z.enum(["allow", "challenge", "deny"]);

/** A route the gateway scores; every other path passes through unchanged. */
const route = z.strictObject({
  path: z.string().startsWith("/"),
  method: z.string().default("POST"),
  /** The body field that carries the account identifier. */
  identifier: z.string().min(1).default("email"),
  /** `uniform`: one 202 body whatever happened; `origin`: relay the origin's response. */
  respond: z.enum(["uniform", "origin"]).default("uniform"),
  /**
   * `uniform` only: where a browser's form post (Accept: text/html, such as the challenge
   * page's resubmission) is sent with a 303 instead of being shown the uniform answer as
   * a page. A path on this host; every such answer gets it, whatever the decision.
   */
  after_challenge: z
    .string()
    .regex(/^\/(?![/\\])[^\s]*$/, "expected a path on this host such as /reset/sent")
    .optional(),
});

/**
 * The entities a velocity window or distinct count can be keyed on. `subnet` is the /24
 * (IPv4) or /64 (IPv6); `net56` and `net48` are IPv6 only (absent for IPv4).
 */
export const KEY_KINDS = ["account", "ip", "subnet", "net56", "net48", "device", "asn", "global"] as const;
/** One entity kind. */
export type KeyKind = (typeof KEY_KINDS)[number];

const window = z.strictObject({ key: z.enum(KEY_KINDS), window: duration });
const distinct = z.strictObject({
  key: z.enum(KEY_KINDS),
  member: z.enum(KEY_KINDS),
  window: duration,
});

/**
 * A reason code as a rule names it: built-in (docs/reason-codes.md) or declared under
 * `reasons:`. Whether it is one of those is checked by the loader (semantic.ts), which
 * can point at the file and suggest the closest code.
 */
const reasonCode = z
  .string()
  .max(64)
  .regex(REASON_CODE_PATTERN, "expected an UPPER_SNAKE reason code, e.g. RECENT_RESET_FROM_HOSTING");

const ruleName = z.string().regex(/^[a-z][a-z0-9_]*$/, "expected snake_case, e.g. ip_10m");

const rule = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "expected a kebab-case id, e.g. ua-missing"),
  description: z.string().optional(),
  when: z.string().min(1),
  weight: z.number().int().min(-1000).max(1000),
  reason: reasonCode,
  mode: z.enum(["live", "shadow"]).default("live"),
});

const channelName = z.string().regex(/^[a-z][a-z0-9_]*$/, "expected snake_case, e.g. sms_otp");

const tier = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/),
  min_score: z.number().int(),
  verdict: z.enum(["allow", "challenge", "deny"]),
  captcha: z.boolean().default(false),
  /** Ordered: the first usable channel wins, the rest are fallbacks. */
  channels: z.array(channelName).default([]),
  /** What happens when constraints leave no usable channel (never silently "allow"). */
  no_channel: z.enum(["challenge", "deny"]).default("challenge"),
});

const country = z.string().regex(/^[A-Z0-9]{2}$/, "expected an ISO 3166-1 alpha-2 code, e.g. US");

/**
 * Cost per send in the rule set's `currency`, for experiment reports: one figure, or a
 * default with figures per destination country (SMS and voice prices differ by country).
 */
const cost = z.union([
  z.number().nonnegative(),
  z.strictObject({
    default: z.number().nonnegative(),
    per_country: z.record(country, z.number().nonnegative()).default({}),
  }),
]);

/** A verification channel and the constraints that decide whether it is usable. */
const channel = z.strictObject({
  description: z.string().optional(),
  /** Cost per send, for reports and experiments (docs/experiments.md, "Costs"). */
  cost: cost.optional(),
  /** Usable only for requests geolocated in one of these countries (omit: any). */
  countries: z.array(country).min(1).optional(),
  /** Per-country budget: at most `default` (or the country's figure) eligible requests per window. */
  budget: z
    .strictObject({
      window: duration,
      default: z.number().int().nonnegative(),
      per_country: z.record(country, z.number().int().nonnegative()).default({}),
    })
    .optional(),
  /** A CEL condition that must hold for the channel to be usable. */
  when: z.string().min(1).optional(),
});

/** How a ladder's penalty box grows with repeated 429s and shrinks with good behaviour. */
const penalty = z.strictObject({
  /** Box length for the first violation. */
  base: duration,
  /** Each further violation multiplies the box by this. */
  factor: z.number().min(1).max(100),
  /** The box never exceeds this. */
  max: duration,
  /** Each period this long after a box ends without a new violation forgets one level. */
  decay: duration,
});

/** One rung of a rate-limit ladder: above `limit` requests per `window`, `action` applies. */
const ladderStep = z.strictObject({
  action: z.enum(["captcha", "block"]),
  limit: z.number().int().positive().max(10_000_000),
  window: duration,
});

/** A rate-limit ladder on one key: allow → CAPTCHA → 429 → penalty box (docs/rate-limits.md). */
const ladder = z.strictObject({
  key: z.enum(KEY_KINDS),
  description: z.string().optional(),
  /** CEL: when it holds, this ladder's CAPTCHA steps do not apply (the request is still counted). */
  unless: z.string().min(1).optional(),
  steps: z.array(ladderStep).min(1),
  /** Escalation of repeated 429s; only for ladders with a `block` step. */
  penalty: penalty.optional(),
});

const CAPTCHA_DEFAULTS = { action: "password-reset", timeout: "2s", attempts: 2, max_age: "5m", pass_ttl: "5m" } as const;

/** How CAPTCHA tokens are checked and how long a solved CAPTCHA spares the user another. */
const captcha = z.strictObject({
  /** The widget action; siteverify must return the same (Turnstile: 1-32 of [A-Za-z0-9_-]). */
  action: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "expected 1-32 letters, digits, _ or -").default(CAPTCHA_DEFAULTS.action),
  /** Bound on one siteverify call. */
  timeout: duration.default(CAPTCHA_DEFAULTS.timeout),
  /** Siteverify calls per token at most (a retry reuses the idempotency key). */
  attempts: z.number().int().min(1).max(3).default(CAPTCHA_DEFAULTS.attempts),
  /** Tokens solved longer ago than this are refused (Turnstile tokens live 300 s). */
  max_age: duration.default(CAPTCHA_DEFAULTS.max_age),
  /** Lifetime of the signed pass that spares a second challenge (bound to IP and account). */
  pass_ttl: duration.default(CAPTCHA_DEFAULTS.pass_ttl),
});

/** An explicit allow or deny that short-circuits scoring. */
const override = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "expected a kebab-case id, e.g. deny-asn"),
  description: z.string().optional(),
  when: z.string().min(1),
  verdict: z.enum(["allow", "deny"]),
  /** Defaults to OVERRIDE_ALLOWLIST or OVERRIDE_DENYLIST by verdict. */
  reason: reasonCode.optional(),
  /** Tier to report; defaults to the lowest tier (allow) or the highest (deny). */
  tier: z.string().optional(),
});

/** The whole rule set after merging every file in the rules directory. */
export const rulesetSchema = z.strictObject({
  version: z.literal(1),
  routes: z.array(route).min(1),
  limits: z
    .strictObject({
      body_bytes: z.number().int().positive().max(1_048_576).default(8192),
      user_agent_chars: z.number().int().positive().max(4096).default(512),
    })
    .default({ body_bytes: 8192, user_agent_chars: 512 }),
  origin: z
    .strictObject({ timeout: duration.default("5s") })
    .default({ timeout: "5s" }),
  store: z
    .strictObject({ timeout: duration.default("150ms") })
    .default({ timeout: "150ms" }),
  fail_modes: z
    .strictObject({ store: failMode.default("challenge"), rules: failMode.default("allow"), captcha: failMode.default("challenge") })
    .default({ store: "challenge", rules: "allow", captcha: "challenge" }),
  /** Reason codes the rule files add to the built-in ones: CODE → what it means (rules/reasons.yaml); codes checked in semantic.ts. */
  reasons: z.record(z.string(), z.string().trim().min(1, "describe what the code means")).default({}),
  windows: z.record(ruleName, window).default({}),
  distinct: z.record(ruleName, distinct).default({}),
  rules: z.array(rule).default([]),
  overrides: z.array(override).default([]),
  channels: z.record(channelName, channel).default({}),
  tiers: z.array(tier).min(1),
  /** Rate-limit ladders by name (docs/rate-limits.md). */
  rate_limits: z.record(ruleName, ladder).default({}),
  captcha: captcha.default(CAPTCHA_DEFAULTS),
  /** Accounts that get the stricter tier table: HMAC'd keys (`riskgate account-key`). */
  privileged: z
    .strictObject({
      accounts: z.array(z.string().regex(/^[A-Za-z0-9_-]{22}$/, "expected an account key from `riskgate account-key`")).default([]),
      tiers: z.array(tier).min(1),
    })
    .optional(),
  /** ISO 4217 code the channel costs are in. */
  currency: z.string().regex(/^[A-Z]{3}$/, "expected an ISO 4217 code, e.g. USD").default("USD"),
  /** Channel experiments (docs/experiments.md). */
  experiments: experimentsSchema,
});

/** The validated rule set as written (durations still strings). */
export type RulesetSpec = z.infer<typeof rulesetSchema>;
/** One scoring rule. */
export type RuleSpec = RulesetSpec["rules"][number];
/** One tier. */
export type TierSpec = RulesetSpec["tiers"][number];
/** One verification channel. */
export type ChannelSpec = RulesetSpec["channels"][string];
/** One override. */
export type OverrideSpec = RulesetSpec["overrides"][number];
/** One rate-limit ladder. */
export type LadderSpec = RulesetSpec["rate_limits"][string];
/** CAPTCHA settings. */
export type CaptchaSpec = RulesetSpec["captcha"];
/** A channel's cost as written. */
export type CostSpec = NonNullable<ChannelSpec["cost"]>;
/** One scored route. */
export type RouteSpec = RulesetSpec["routes"][number];
