/**
 * POST /v1/accounts: the origin's account roster (docs/accounts.md). The origin, which
 * knows which accounts exist, adds and removes them (a bulk load in batches, then single
 * upserts on sign-up and deletion) and marks the roster loaded; from then on a reset for
 * an address the roster does not hold reads `account.roster == "absent"`, and the shipped
 * rule denies it silently (rules/roster.yaml). Signed with the origin's key exactly like
 * an outcome report (`verifyOriginSigned`), with its own `typ`.
 *
 * Addresses are canonicalised and HMAC'd to the velocity key the reset path counts on
 * (src/context/account.ts), so respellings (case, `+tag`, Gmail dots, accents) find the
 * account, and nothing raw reaches the store or the log. A statement is checked whole
 * before anything is applied: one bad address is a 400 naming it by index, and nothing
 * is stored.
 */
import type { Gateway } from "../gateway/gateway.ts";
import { canonicalIdentifier } from "../context/account.ts";
import { readCapped } from "../context/reset-body.ts";
import { RiskgateError } from "../shared/errors.ts";
import { type RosterStatus, StoreError } from "../store/port.ts";
import { verifyOriginSigned } from "./verify.ts";

/** The JWS `typ` of a roster statement. */
export const ACCOUNTS_TYP = "riskgate-accounts+jwt";
/** Most addresses (add + remove) in one statement; a bulk load sends several. */
export const MAX_ACCOUNTS_PER_STATEMENT = 5000;
/** Largest accepted statement: 5,000 long addresses, base64url-encoded, fit. */
export const MAX_ACCOUNTS_BYTES = 1024 * 1024;

const MEDIA_TYPES = new Set(["application/jwt", "application/jose", "text/plain"]);

function invalid(message: string): RiskgateError {
  return new RiskgateError("ERR_ACCOUNTS_INVALID", message);
}

/** A verified statement: hashed keys to add and remove, and the marker change. */
export interface RosterStatement {
  readonly add: readonly string[];
  readonly remove: readonly string[];
  readonly loaded: boolean | null;
  /** `iat` in ms: the roster's as-of when `loaded` is true. */
  readonly at: number;
}

/** Handle one statement; every failure is a RiskgateError turned into a response by onError. */
export async function handleAccounts(request: Request, gateway: Gateway): Promise<Response> {
  if (gateway.outcomeKeys === null) {
    throw new RiskgateError("ERR_OUTCOMES_DISABLED", "the account roster is not configured: set OUTCOME_VERIFY_KEYS to the origin's public key(s)");
  }
  const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!MEDIA_TYPES.has(type)) {
    throw new RiskgateError("ERR_UNSUPPORTED_MEDIA_TYPE", "send the statement as application/jwt (a compact JWS)");
  }
  const body = new TextDecoder().decode(await readCapped(request, MAX_ACCOUNTS_BYTES)).trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(body)) throw invalid("body must be a compact JWS (header.payload.signature)");
  const payload = await verifyOriginSigned(body, gateway.outcomeKeys, ACCOUNTS_TYP, new Date(gateway.now()), "ERR_ACCOUNTS_SIGNATURE", "account roster statement");
  const statement = await parseStatement(payload, (identifier) => gateway.hasher.hash("account", identifier));
  let status: RosterStatus;
  try {
    status = await gateway.store.updateRoster(statement);
  } catch (err) {
    // Nothing is assumed applied: the statement is idempotent, so the origin retries it whole.
    const code = err instanceof StoreError ? err.code : "STORE_UNAVAILABLE";
    throw new RiskgateError("ERR_STORE_UNAVAILABLE", `roster statement not applied (${code}); retry`, { "retry-after": "5" });
  }
  const roster = { loaded: status.loaded, as_of: status.loadedAt === null ? null : new Date(status.loadedAt).toISOString() };
  // Counts only: never an address or a key.
  console.log(JSON.stringify({ type: "riskgate.accounts", ts: new Date(gateway.now()).toISOString(), added: statement.add.length, removed: statement.remove.length, loaded: statement.loaded, roster }));
  return Response.json(
    { status: "accepted", added: statement.add.length, removed: statement.remove.length, roster },
    { status: 200, headers: { "cache-control": "no-store" } },
  );
}

/**
 * Check a verified payload whole and hash its addresses: `add` and `remove` (arrays of
 * account identifiers, each optional) and `loaded` (optional boolean). Throws a 400
 * naming the first problem; nothing is returned half-checked.
 */
export async function parseStatement(payload: Record<string, unknown>, hash: (velocityForm: string) => Promise<string>): Promise<RosterStatement> {
  const known = new Set(["add", "remove", "loaded", "jti", "iat", "exp", "nbf", "aud", "iss", "sub"]);
  const unknownField = Object.keys(payload).find((k) => !known.has(k));
  if (unknownField !== undefined) throw invalid(`unknown field ${JSON.stringify(unknownField.slice(0, 40))}; a statement has add, remove and loaded`);
  const loaded = payload.loaded ?? null;
  if (loaded !== null && typeof loaded !== "boolean") throw invalid("loaded must be true (the roster is complete: turn it on) or false (turn it off)");
  const lists = { add: payload.add ?? [], remove: payload.remove ?? [] };
  for (const [name, value] of Object.entries(lists)) {
    if (!Array.isArray(value)) throw invalid(`${name} must be an array of account identifiers`);
  }
  const add = lists.add as unknown[];
  const remove = lists.remove as unknown[];
  if (add.length + remove.length > MAX_ACCOUNTS_PER_STATEMENT) {
    throw invalid(`at most ${MAX_ACCOUNTS_PER_STATEMENT} addresses per statement (add + remove); send a bulk load in several`);
  }
  if (add.length + remove.length === 0 && loaded === null) throw invalid("an empty statement: send add, remove or loaded");
  const keys = async (name: string, values: unknown[]) => {
    const out: string[] = [];
    for (const [i, value] of values.entries()) {
      const canonical = typeof value === "string" ? canonicalIdentifier(value) : null;
      if (canonical === null) throw invalid(`${name}[${i}] is not an account identifier (a non-empty string of at most 320 characters)`);
      out.push(await hash(canonical.velocity));
    }
    return out;
  };
  const addKeys = await keys("add", add);
  const removeKeys = await keys("remove", remove);
  const adding = new Set(addKeys);
  const both = removeKeys.findIndex((k) => adding.has(k));
  if (both >= 0) throw invalid(`remove[${both}] is also added in this statement (perhaps as another spelling); send one or the other`);
  const at = Number(payload.iat) * 1000;
  return { add: [...adding], remove: [...new Set(removeKeys)], loaded, at };
}
