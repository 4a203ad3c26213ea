/**
 * Keys that verify outcome reports. The origin signs each report with its own private
 * key; `OUTCOME_VERIFY_KEYS` holds the matching public JWK(s) (a JWKS object or a JSON
 * array), several during the origin's key rotation. Parsed once per isolate.
 */
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from "jose";
import { ConfigError } from "../shared/errors.ts";

/**
 * Development-only origin key, used by the demo origin and tests when
 * RISKGATE_ENV=development and OUTCOME_VERIFY_KEYS is unset. Public on purpose: what it
 * signs proves nothing, so production refuses it.
 */
export const DEV_OUTCOME_SIGNING_KEY: JWK = {
  kty: "EC",
  crv: "P-256",
  x: "yn4RqySx5AXGnLdDvBEgbYOjzhQ9tH-ZYiMG5fYSj9o",
  y: "5b91QaRUTahSuPOiu1S98GryIC7xOuohqeC0nSdSotQ",
  d: "ar59Vzo1zBsGwnZC5otf7UH7EHSORTCQ_ye7DQKeuk8",
  kid: "dev-origin-2026-1",
  alg: "ES256",
};

/** The verification side of the outcome keys. */
export interface OutcomeKeys {
  readonly keySet: JWTVerifyGetKey;
  readonly kids: readonly string[];
}

const ALGS = new Set(["ES256", "EdDSA", "Ed25519"]);

function publicPart(jwk: JWK): JWK {
  const { d: _private, ...pub } = jwk;
  return pub;
}

/** Parse `OUTCOME_VERIFY_KEYS`; null when unset in production (the endpoint then answers 503). */
export function loadOutcomeKeys(raw: string | undefined, development: boolean): OutcomeKeys | null {
  if (raw === undefined || raw.trim() === "") {
    return development ? fromJwks([publicPart(DEV_OUTCOME_SIGNING_KEY)]) : null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError("OUTCOME_VERIFY_KEYS is not valid JSON");
  }
  const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError("OUTCOME_VERIFY_KEYS must be a JWKS ({\"keys\": [...]}) or a non-empty array of public JWKs");
  }
  for (const [i, key] of (keys as JWK[]).entries()) {
    if (typeof key !== "object" || key === null) throw new ConfigError(`OUTCOME_VERIFY_KEYS[${i}] is not a JWK`);
    if (typeof key.d === "string") throw new ConfigError(`OUTCOME_VERIFY_KEYS[${i}] is a private key; configure only the public half`);
    if (typeof key.kid !== "string" || key.kid === "") throw new ConfigError(`OUTCOME_VERIFY_KEYS[${i}] has no kid`);
    if (typeof key.alg !== "string" || !ALGS.has(key.alg)) throw new ConfigError(`OUTCOME_VERIFY_KEYS[${i}] alg must be ES256 or EdDSA`);
    if (!development && key.x === DEV_OUTCOME_SIGNING_KEY.x) {
      throw new ConfigError("OUTCOME_VERIFY_KEYS must not contain the development key in production");
    }
  }
  return fromJwks(keys as JWK[]);
}

function fromJwks(keys: JWK[]): OutcomeKeys {
  return { keySet: createLocalJWKSet({ keys }), kids: keys.map((k) => k.kid ?? "") };
}
