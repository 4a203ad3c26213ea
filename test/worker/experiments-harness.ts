// A gateway with a test experiment, a fake clock and an in-process origin that keeps the
// signed decisions it receives, driven through the real Hono app inside workerd against
// the real Durable Object store.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { decodeJwt, importJWK, type JWTPayload, SignJWT } from "jose";
import { createApp } from "../../src/app.ts";
import type { ExperimentSpec } from "../../src/scoring/experiments/schema.ts";
import { ExperimentMonitor } from "../../src/scoring/experiments/monitor.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { DEV_OUTCOME_SIGNING_KEY } from "../../src/outcomes/keys.ts";
import { compileRuleset } from "../../src/scoring/ruleset/compile.ts";
import type { Store } from "../../src/store/port.ts";

export const CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

/** A running test gateway. */
export interface ExperimentHarness {
  readonly gateway: Gateway;
  readonly clock: { now: number };
  /** Claims of every decision forwarded to the origin, in order, with the raw token. */
  readonly forwarded: { claims: JWTPayload; token: string }[];
  readonly logs: Record<string, unknown>[];
}

/** Two arms on the low tier (every ordinary request): `link` and `otp`. */
export function lowTierExperiment(id: string, over: Partial<ExperimentSpec> = {}): ExperimentSpec {
  return {
    id,
    tier: "low",
    start: "2027-01-01",
    end: "2028-01-01",
    holdout: 0,
    arms: [
      { id: "link", channels: ["email_link"], weight: 1 },
      { id: "otp", channels: ["email_otp"], weight: 1 },
    ],
    guardrails: { fraud_rate: { max: 0.02, detect: 0.2 }, alpha: 0.01, min_exposures: 30 },
    ...over,
  };
}

let harnesses = 0;

/**
 * A gateway whose only experiment is `experiment`, at a fake time inside it. Each harness
 * starts its clock three days after the previous one, so velocity windows of one test
 * never count another test's requests in the shared store.
 */
export async function experimentHarness(experiment: ExperimentSpec, options: { store?: (s: Store) => Store; start?: number } = {}): Promise<ExperimentHarness> {
  const base = await createGateway(env);
  const ruleset = compileRuleset({ ...base.ruleset.spec, experiments: [experiment] }, `exp-${experiment.id}`);
  const store = options.store?.(base.store) ?? base.store;
  const clock = { now: options.start ?? Date.parse("2027-03-01T08:00:00Z") + harnesses++ * 3 * 86_400_000 };
  const forwarded: ExperimentHarness["forwarded"] = [];
  const logs: Record<string, unknown>[] = [];
  const gateway: Gateway = {
    ...base,
    ruleset,
    store,
    now: () => clock.now,
    log: () => undefined,
    experiments: new ExperimentMonitor(ruleset, store, { refreshMs: 10_000, maxAgeMs: 60_000, log: (line) => void logs.push(line) }),
    fetcher: async (input, init) => {
      const token = new Request(input, init).headers.get("riskgate-decision") ?? "";
      forwarded.push({ claims: decodeJwt(token), token });
      return Response.json({ status: "reset started" });
    },
  };
  return { gateway, clock, forwarded, logs };
}

let counter = 0;

/**
 * One reset for `email` from its own IP and browser build (so velocity rules stay quiet);
 * `browser` pins the build (one script's burst rather than a crowd behind one address).
 */
export async function reset(
  h: ExperimentHarness,
  email: string,
  options: { wait?: boolean; ip?: string; browser?: number } = {},
): Promise<{ res: Response; done: Promise<void> }> {
  counter++;
  const ctx = createExecutionContext();
  const request = new Request("https://gateway.test/password/reset", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": CHROME.replace("130.0.0.0", `130.0.${options.browser ?? counter}.0`),
      // A real Chrome sends its client hints: without them, a request from one of the
      // hosting networks among these addresses meets datacenter-browser-hints' CAPTCHA.
      "sec-ch-ua": '"Chromium";v="130", "Google Chrome";v="130", "Not?A_Brand";v="99"',
      "sec-ch-ua-mobile": "?0",
      "sec-ch-ua-platform": '"Linux"',
      // A different /24 for every request.
      "cf-connecting-ip": options.ip ?? `81.${1 + (counter % 200)}.${Math.floor(counter / 200) % 250}.${(counter % 250) + 1}`,
    },
    body: JSON.stringify({ email }),
  });
  const res = await createApp(async () => h.gateway).fetch(request, env, ctx);
  const done = waitOnExecutionContext(ctx);
  if (options.wait !== false) await done;
  return { res, done };
}

/** The arm each forwarded decision carried (null when not enrolled). */
export function armsOf(h: ExperimentHarness): (string | null)[] {
  return h.forwarded.map((f) => (f.claims.experiment as { arm?: string } | undefined)?.arm ?? null);
}

/** A forwarded decision, as the origin keeps it. */
export type Forwarded = ExperimentHarness["forwarded"][number];

/**
 * Report an outcome for a forwarded decision through POST /v1/outcomes, signed as the
 * origin signs it (the development origin key), at the harness's fake time.
 */
export async function reportOutcome(h: ExperimentHarness, decision: Forwarded, event: string, extra: Record<string, unknown> = {}, eventId: string = crypto.randomUUID()): Promise<Response> {
  const key = await importJWK(DEV_OUTCOME_SIGNING_KEY, "ES256");
  const body = await new SignJWT({ event, decision_id: decision.claims.jti, decision: decision.token, ...extra })
    .setProtectedHeader({ alg: "ES256", kid: DEV_OUTCOME_SIGNING_KEY.kid ?? "", typ: "riskgate-outcome+jwt" })
    .setAudience("riskgate")
    .setJti(eventId)
    .setIssuedAt(Math.floor(h.clock.now / 1000))
    .sign(key);
  const ctx = createExecutionContext();
  const request = new Request("https://gateway.test/v1/outcomes", { method: "POST", headers: { "content-type": "application/jwt" }, body });
  const res = await createApp(async () => h.gateway).fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
