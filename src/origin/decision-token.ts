/**
 * The `Riskgate-Decision` header: a compact JWS over the decision's claims, so the
 * origin can prove a request passed the gateway and act on the verdict and channel.
 *
 * Signed with WebCrypto directly rather than jose's SignJWT: the JWS is two base64url
 * segments and a signature (WebCrypto's ECDSA output is already JWS's r||s form), and
 * SignJWT's claim builder and checks cost more than the signature itself on every
 * forwarded reset (docs/architecture.md, "Performance"). Tokens are verified with jose
 * (the demo origin and test/worker/origin.test.ts), so the format stays jose's.
 */
import { base64url } from "../shared/base64url.ts";
import type { Decision } from "../shared/decision.ts";
import type { SigningKeys } from "./signing-keys.ts";

/** Header name the origin reads. */
export const DECISION_HEADER = "Riskgate-Decision";
/** Token lifetime; short, since the origin checks it on the same request. */
export const DECISION_TTL_SECONDS = 60;
/** Issuer claim. */
export const ISSUER = "riskgate";

/** Claims beyond the registered ones; documented in README "Origin integration". */
export interface DecisionClaims {
  readonly verdict: Decision["verdict"];
  readonly tier: string;
  readonly score: number;
  readonly channel: string;
  /** Usable channels in order of preference (`channel` first, then fallbacks). */
  readonly channels: readonly string[];
  readonly reasons: readonly string[];
  readonly mode: Decision["mode"];
  /** Hashed account key, so the origin can tie outcomes back without the raw email. */
  readonly acct: string;
  readonly rules: string;
  /** The experiment arm, when enrolled; absent otherwise. The origin uses `channel` either way. */
  readonly experiment?: { readonly id: string; readonly arm: string };
}

/**
 * Sign a decision for `audience` (the origin's URL origin). `extra` claims ride along
 * (e.g. `seen`, what the signals observed, which an outcome echoes back to teach history).
 */
export async function signDecision(
  decision: Decision,
  accountKey: string,
  audience: string,
  keys: SigningKeys,
  nowSeconds: number,
  extra: Readonly<Record<string, unknown>> = {},
): Promise<string> {
  const claims: DecisionClaims = {
    verdict: decision.verdict,
    tier: decision.tier,
    score: decision.score,
    channel: decision.channel,
    channels: decision.channels,
    reasons: decision.reasons.map((r) => r.code),
    mode: decision.mode,
    acct: accountKey,
    rules: decision.rulesetVersion,
    ...(decision.experiment === undefined ? {} : { experiment: { id: decision.experiment.id, arm: decision.experiment.arm } }),
  };
  const { alg, kid, key } = keys.current;
  const payload = {
    ...extra,
    ...claims,
    iss: ISSUER,
    aud: audience,
    jti: decision.id,
    iat: nowSeconds,
    exp: nowSeconds + DECISION_TTL_SECONDS,
  };
  const { params, header } = perKey(key, alg, kid);
  const input = `${header}.${segment(payload)}`;
  const signature = await crypto.subtle.sign(params, key, encoder.encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

const encoder = new TextEncoder();

function segment(value: unknown): string {
  return base64url(encoder.encode(JSON.stringify(value)));
}

type SignParams = Parameters<SubtleCrypto["sign"]>[0];
const signingOf = new WeakMap<CryptoKey, { params: SignParams; header: string }>();

/**
 * What is the same for every token of a key, computed once: the WebCrypto parameters for
 * its algorithm (ES256 or EdDSA, src/origin/signing-keys.ts; workerd builds a new
 * `algorithm` object on every read of the getter) and the encoded JWS header segment.
 */
function perKey(key: CryptoKey, alg: string, kid: string): { params: SignParams; header: string } {
  let entry = signingOf.get(key);
  if (entry === undefined) {
    const params = key.algorithm.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : { name: key.algorithm.name };
    entry = { params, header: segment({ alg, kid, typ: "riskgate-decision+jwt" }) };
    signingOf.set(key, entry);
  }
  return entry;
}
