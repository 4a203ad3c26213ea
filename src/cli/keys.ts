/**
 * `riskgate keys generate`: fresh keys in the exact shapes the gateway reads, so nobody
 * hand-crafts a JWK. Two pairs:
 *   - the gateway's decision-signing key: `DECISION_SIGNING_KEYS` takes a JSON array of
 *     private JWKs with `kid` and `alg` (src/origin/signing-keys.ts); the origin verifies
 *     decisions with the public half from `GET /.well-known/jwks.json`.
 *   - the origin's outcome-signing key: the origin keeps the private JWK and signs outcome
 *     reports with it; the gateway's `OUTCOME_VERIFY_KEYS` takes the public JWKS
 *     (src/outcomes/keys.ts), never the private half.
 */
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { EXIT, type Io, UsageError } from "./io.ts";

export const KEYS_USAGE = `  keys generate [--alg ES256|EdDSA] [--kid prefix] [--json]
                                                  a new decision-signing key (DECISION_SIGNING_KEYS) and
                                                  an origin outcome-signing pair (OUTCOME_VERIFY_KEYS)
`;

/** Signature algorithms the gateway accepts for both key sets. */
export type KeyAlg = "ES256" | "EdDSA";

/** What `keys generate` prints. */
export interface GeneratedKeys {
  /** The value of `DECISION_SIGNING_KEYS`: one private JWK (prepend it to rotate). */
  readonly decisionSigningKeys: JWK[];
  /** The value of `OUTCOME_VERIFY_KEYS`: the origin's public JWK as a JWKS. */
  readonly outcomeVerifyKeys: { keys: JWK[] };
  /** The origin's private outcome-signing JWK; stays at the origin. */
  readonly originSigningKey: JWK;
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function pair(alg: KeyAlg, kid: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { privateJwk, publicJwk };
}

/** Generate both key sets; kids are `[<prefix>-]riskgate|origin-<yyyy-mm-dd>-<random>`. */
export async function generateKeys(alg: KeyAlg, now = new Date(), kidPrefix?: string): Promise<GeneratedKeys> {
  const day = now.toISOString().slice(0, 10);
  const kid = (role: string) => `${kidPrefix === undefined ? "" : `${kidPrefix}-`}${role}-${day}-${randomSuffix()}`;
  const decision = await pair(alg, kid("riskgate"));
  const origin = await pair(alg, kid("origin"));
  return {
    decisionSigningKeys: [decision.privateJwk],
    outcomeVerifyKeys: { keys: [origin.publicJwk] },
    originSigningKey: origin.privateJwk,
  };
}

/** Parse `--alg`: ES256 (default) or EdDSA (Ed25519). */
export function keyAlg(value: string | undefined): KeyAlg {
  if (value === undefined || value.toUpperCase() === "ES256") return "ES256";
  if (value.toLowerCase() === "eddsa" || value.toLowerCase() === "ed25519") return "EdDSA";
  throw new UsageError(`--alg must be ES256 or EdDSA, not "${value}"`);
}

/** `riskgate keys <command>`. */
export async function keysCommand(io: Io, words: readonly string[], flags: { alg?: string | undefined; kid?: string | undefined; json: boolean }): Promise<number> {
  const [command, ...extra] = words;
  if (command !== "generate") throw new UsageError(command === undefined ? "keys needs a command (generate)" : `unknown command "keys ${words.join(" ")}"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra.join(" ")}"`);
  if (flags.kid !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(flags.kid)) throw new UsageError("--kid must be 1 to 64 letters, digits, '.', '_' or '-'");
  const keys = await generateKeys(keyAlg(flags.alg), new Date(), flags.kid);
  if (flags.json) {
    io.out(`${JSON.stringify({ DECISION_SIGNING_KEYS: keys.decisionSigningKeys, OUTCOME_VERIFY_KEYS: keys.outcomeVerifyKeys, origin_outcome_signing_key: keys.originSigningKey }, null, 2)}\n`);
    return EXIT.OK;
  }
  const decisionKid = keys.decisionSigningKeys[0]?.kid;
  io.out(`# DECISION_SIGNING_KEYS: the gateway's secret (kid ${decisionKid}). Set it with
#   npx wrangler secret put DECISION_SIGNING_KEYS
# To rotate, put this key first in the existing array and keep the old one second for at
# least 6 minutes (JWKS cache + token lifetime), then remove it. Locally: .dev.vars or the shell.
${JSON.stringify(keys.decisionSigningKeys)}

# OUTCOME_VERIFY_KEYS: the origin's public key, for the gateway. Set it with
#   npx wrangler secret put OUTCOME_VERIFY_KEYS
${JSON.stringify(keys.outcomeVerifyKeys)}

# The origin's private outcome-signing key: keep it at the origin (it signs POST /v1/outcomes
# reports, docs/outcomes.md); never give it to the gateway.
${JSON.stringify(keys.originSigningKey)}
`);
  return EXIT.OK;
}
