/**
 * Decision-signing keys. `DECISION_SIGNING_KEYS` holds a JSON array of private JWKs
 * (ES256 or EdDSA), each with a `kid`; the first signs, the others are still published
 * in the JWKS so tokens signed before a rotation keep verifying until they expire.
 */
import { type CryptoKey, importJWK, type JWK } from "jose";
import { ConfigError } from "../shared/errors.ts";

/**
 * Development-only key, used when RISKGATE_ENV=development and no keys are configured.
 * Public on purpose: anything it signs proves nothing. Production refuses to start without
 * DECISION_SIGNING_KEYS.
 */
export const DEV_SIGNING_KEY: JWK = {
  kty: "EC",
  crv: "P-256",
  x: "HL-pKujowgQQ6knRTjYpYwBIDTIVHsOLRDJtHvJ9DPg",
  y: "IesqwQZdMR69-T6Ws9SpbvOi2hYwImLbfjO44_tp4Ts",
  d: "FHHJQVinCZHtlEX7dHyqvB7rP82VLn85cvk1qPnJnps",
  kid: "dev-2026-1",
  alg: "ES256",
};

/** The signing key and the public set. */
export interface SigningKeys {
  readonly current: { readonly kid: string; readonly alg: string; readonly key: CryptoKey };
  /** Public JWKs of every configured key, current first. */
  readonly publicJwks: readonly JWK[];
}

const ALGS = new Set(["ES256", "EdDSA", "Ed25519"]);

/** Parse and import keys; a malformed configuration throws ConfigError at start-up. */
export async function loadSigningKeys(raw: string): Promise<SigningKeys> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError("DECISION_SIGNING_KEYS is not valid JSON");
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ConfigError("DECISION_SIGNING_KEYS must be a non-empty JSON array of private JWKs");
  }
  const jwks = parsed as JWK[];
  const publicJwks: JWK[] = [];
  for (const [i, jwk] of jwks.entries()) {
    if (typeof jwk.kid !== "string" || jwk.kid.length === 0) {
      throw new ConfigError(`DECISION_SIGNING_KEYS[${i}] has no kid`);
    }
    if (typeof jwk.alg !== "string" || !ALGS.has(jwk.alg)) {
      throw new ConfigError(`DECISION_SIGNING_KEYS[${i}] alg must be ES256 or EdDSA`);
    }
    if (typeof jwk.d !== "string") throw new ConfigError(`DECISION_SIGNING_KEYS[${i}] is not a private key`);
    const { d: _private, ...pub } = jwk;
    publicJwks.push({ ...pub, use: "sig" });
  }
  const first = jwks[0] as JWK & { kid: string; alg: string };
  let key: CryptoKey;
  try {
    key = (await importJWK(first, first.alg)) as CryptoKey;
  } catch (err) {
    throw new ConfigError(`DECISION_SIGNING_KEYS[0] cannot be imported: ${(err as Error).message}`);
  }
  return { current: { kid: first.kid, alg: first.alg, key }, publicJwks };
}
