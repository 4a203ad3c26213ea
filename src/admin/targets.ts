/**
 * What an operator types, resolved to the keys the reset path counts under, so that an
 * admin action hits exactly the request it means to: an account address is canonicalised
 * as the reset path does (src/context/account.ts, the velocity form) and HMAC'd here, on
 * the server, before anything stores or logs it. Raw addresses go no further than this.
 */
import { canonicalIdentifier } from "../context/account.ts";
import { parseIp } from "../context/client-ip.ts";
import type { Hasher } from "../context/hmac.ts";
import { RiskgateError } from "../shared/errors.ts";
import { parseRange } from "../shared/ip-key.ts";

/** The account key (`keys.account`) of an address as typed; 400 when it is no identifier. */
export async function accountKeyOf(hasher: Hasher, raw: string): Promise<string> {
  const id = canonicalIdentifier(raw);
  if (id === null) throw new RiskgateError("ERR_BAD_REQUEST", "account: send the address (1 to 320 characters)");
  return hasher.hash("account", id.velocity);
}

/** A key whose penalty boxes can be lifted. */
export interface LiftKey {
  readonly kind: "ip" | "subnet" | "net56" | "net48" | "account" | "device";
  /** The HMAC'd entity key the ladders count under. */
  readonly entity: string;
  /** How the audit event names it: the HMAC, or a subnet as written. Never an address or email. */
  readonly target: string;
}

const HMAC_KEY = /^[A-Za-z0-9_-]{22}$/;
/** A key already HMAC'd, as a refused row names it (`key:ip:<HMAC>`). */
const HASHED = /^key:(ip|subnet|net56|net48|account|device):([A-Za-z0-9_-]{22})$/;

/**
 * Resolve what the operator typed: an IP address; a subnet the ladders count (IPv4 /24,
 * IPv6 /64, /56, /48); `device:<key>` (the decision log's `device`); `key:<kind>:<HMAC>`
 * (a refused row's key on the dashboard); `account:<address>`, or any other text, as an
 * account address.
 */
export async function liftKeyOf(hasher: Hasher, raw: string): Promise<LiftKey> {
  const text = raw.trim();
  const hashed = HASHED.exec(text);
  if (hashed !== null) {
    const entity = hashed[2] ?? "";
    return { kind: hashed[1] as LiftKey["kind"], entity, target: entity };
  }
  if (text.startsWith("device:")) {
    const key = text.slice("device:".length).trim();
    if (!HMAC_KEY.test(key)) throw new RiskgateError("ERR_BAD_REQUEST", "device: send the key as the decision log shows it (22 characters)");
    return { kind: "device", entity: key, target: key };
  }
  if (text.startsWith("account:")) {
    const entity = await accountKeyOf(hasher, text.slice("account:".length));
    return { kind: "account", entity, target: entity };
  }
  if (text.includes("/") && /^[0-9a-f.:]+\/\d{1,3}$/i.test(text)) {
    const range = parseRange(text, true);
    if ("error" in range) throw new RiskgateError("ERR_BAD_REQUEST", range.error);
    const ip = parseIp(text.slice(0, text.indexOf("/")));
    const prefix = Number(text.slice(text.indexOf("/") + 1));
    const kind = ip === null ? null : ip.version === 4 ? (prefix === 24 ? "subnet" : null) : prefix === 64 ? "subnet" : prefix === 56 ? "net56" : prefix === 48 ? "net48" : null;
    if (ip === null || kind === null) {
      throw new RiskgateError("ERR_BAD_REQUEST", "subnet ladders count an IPv4 /24 and an IPv6 /64, /56 or /48");
    }
    const subnet = kind === "subnet" ? ip.subnet : ip[kind];
    if (subnet === null) throw new RiskgateError("ERR_BAD_REQUEST", "not a subnet the ladders count");
    return { kind, entity: await hasher.hash(kind, subnet), target: subnet };
  }
  const ip = parseIp(text);
  if (ip !== null) {
    const entity = await hasher.hash("ip", ip.address);
    return { kind: "ip", entity, target: entity };
  }
  const entity = await accountKeyOf(hasher, text);
  return { kind: "account", entity, target: entity };
}
