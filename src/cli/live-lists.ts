/**
 * `riskgate lists add|remove|show`: the running gateway's live reputation lists
 * (docs/architecture.md, "Live lists"), through its admin API (`/__riskgate/api/lists`);
 * `riskgate accounts block|release` (the same lists, an account by its address, HMAC'd by
 * the gateway) and `riskgate penalty lift` (`/__riskgate/api/penalty/lift`), each
 * docs/operations.md. The gateway is
 * reached as `experiments report` reaches it: --url, RISKGATE_URL, else 127.0.0.1 on PORT
 * or 8787; the admin token from RISKGATE_ADMIN_TOKEN, the development one on loopback.
 */
import { DEV_ADMIN_TOKEN, defaultGatewayUrl } from "./experiments.ts";
import { EXIT, type Io, UsageError } from "./io.ts";

export const LIVE_LISTS_USAGE = `  lists add <ip|cidr|asn|country> --list <name> --reason <text> [--expires 12h] [--url u]
                                                  add a live entry on the running gateway (e.g. --list block)
  lists remove <ip|cidr|asn|country> --list <name> [--reason <text>] [--url u]
                                                  remove it (the next request no longer sees it)
  lists show [--url u] [--json]                   the gateway's live entries
`;

export const ACCOUNTS_USAGE = `  accounts block <address> --reason <text> [--expires 12h] [--url u]
                                                  silently deny the account's resets (ACCOUNT_BLOCKED);
                                                  the gateway HMACs the address, never stores it
  accounts release <address> [--reason <text>] [--url u]
                                                  lift that block
`;

export const PENALTY_USAGE = `  penalty lift <ip|subnet|address|device:key> --reason <text> [--url u]
                                                  clear the key's penalty boxes and ladder windows
`;

const TIMEOUT_MS = 10_000;

/** Flags the live commands read. */
export interface LiveListFlags {
  readonly url?: string | undefined;
  readonly list?: string | undefined;
  readonly reason?: string | undefined;
  readonly expires?: string | undefined;
  readonly json?: boolean | undefined;
}

interface Entry {
  readonly display: string;
  readonly list: string;
  readonly effect: string;
  readonly reason: string;
  readonly source: string;
  readonly expires_at: number | null;
}

function isLoopback(url: URL): boolean {
  return url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
}

async function api(io: Io, base: string, method: string, body: unknown, path = "/__riskgate/api/lists"): Promise<{ status: number; body: unknown } | null> {
  let url: URL;
  try {
    url = new URL(path, base);
  } catch {
    throw new UsageError(`not a URL: ${base}`);
  }
  const token = io.env("RISKGATE_ADMIN_TOKEN") || (isLoopback(url) ? DEV_ADMIN_TOKEN : "");
  if (token === "") throw new UsageError("set RISKGATE_ADMIN_TOKEN to the gateway's admin token");
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    io.err(`riskgate: cannot reach ${url.origin} (${cause?.code ?? (cause?.message || (err as Error).message)}); is the gateway running? (--url, RISKGATE_URL or PORT)\n`);
    return null;
  }
  const parsed = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!res.ok) {
    io.err(`riskgate: ${url.origin} answered ${res.status}${parsed?.error ? ` ${parsed.error.code}: ${parsed.error.message}` : ""}\n`);
    return null;
  }
  return { status: res.status, body: parsed };
}

function line(e: Entry): string {
  const expires = e.expires_at === null ? "no expiry" : `until ${new Date(e.expires_at).toISOString()}`;
  return `${e.effect === "remove" ? "-" : "+"} ${e.list.padEnd(12)} ${e.display.padEnd(24)} ${expires}  (${e.source}) ${e.reason}\n`;
}

/** Run `lists add|remove|show`; null when `command` is not one of them. */
export async function liveListsCommand(io: Io, command: string | undefined, target: string | undefined, flags: LiveListFlags): Promise<number | null> {
  if (command !== "add" && command !== "remove" && command !== "show") return null;
  const base = flags.url ?? defaultGatewayUrl(io.env);
  if (command === "show") {
    if (target !== undefined) throw new UsageError(`unexpected argument "${target}"`);
    const res = await api(io, base, "GET", undefined);
    if (res === null) return EXIT.FAILED;
    const entries = (res.body as { entries: Entry[] }).entries;
    if (flags.json) io.out(`${JSON.stringify(entries, null, 2)}\n`);
    else io.out(entries.length === 0 ? "no live entries\n" : entries.map(line).join(""));
    return EXIT.OK;
  }
  if (target === undefined) throw new UsageError(`lists ${command} needs an IP, CIDR, ASN (AS64500) or country`);
  if (flags.list === undefined) throw new UsageError(`lists ${command} needs --list <name> (e.g. block)`);
  if (command === "add" && (flags.reason === undefined || flags.reason.trim() === "")) throw new UsageError("lists add needs --reason <text>");
  const body =
    command === "add"
      ? { target, list: flags.list, reason: flags.reason, source: "cli", ...(flags.expires === undefined ? {} : { expires: flags.expires }) }
      : { target, list: flags.list, source: "cli", ...(flags.reason === undefined ? {} : { reason: flags.reason }) };
  const res = await api(io, base, command === "add" ? "POST" : "DELETE", body);
  if (res === null) return EXIT.FAILED;
  const entry = (res.body as { entry: Entry }).entry;
  if (flags.json) io.out(`${JSON.stringify(res.body, null, 2)}\n`);
  else io.out(`${command === "add" ? "added" : "removed"}: ${line(entry)}`);
  return EXIT.OK;
}

/** Run `accounts block|release <address>`; null when `command` is not one of them. */
export async function accountsCommand(io: Io, command: string | undefined, address: string | undefined, flags: LiveListFlags): Promise<number | null> {
  if (command !== "block" && command !== "release") return null;
  if (address === undefined || address.trim() === "") throw new UsageError(`accounts ${command} needs the account's address`);
  if (command === "block" && (flags.reason === undefined || flags.reason.trim() === "")) throw new UsageError("accounts block needs --reason <text>");
  const reason = flags.reason === undefined ? {} : { reason: flags.reason };
  const expires = command === "block" && flags.expires !== undefined ? { expires: flags.expires } : {};
  const body = { account: address, list: "block", source: "cli", ...reason, ...expires };
  const res = await api(io, flags.url ?? defaultGatewayUrl(io.env), command === "block" ? "POST" : "DELETE", body);
  if (res === null) return EXIT.FAILED;
  const entry = (res.body as { entry: Entry }).entry;
  if (flags.json) io.out(`${JSON.stringify(res.body, null, 2)}\n`);
  else io.out(`${command === "block" ? "blocked" : "released"}: ${line(entry)}`);
  return EXIT.OK;
}

/** Run `penalty lift <key>`; null when `command` is not `lift`. */
export async function penaltyCommand(io: Io, command: string | undefined, key: string | undefined, flags: LiveListFlags): Promise<number | null> {
  if (command !== "lift") return null;
  if (key === undefined || key.trim() === "") throw new UsageError("penalty lift needs an IP, a subnet, an account address or device:<key>");
  if (flags.reason === undefined || flags.reason.trim() === "") throw new UsageError("penalty lift needs --reason <text>");
  const body = { key, reason: flags.reason, source: "cli" };
  const res = await api(io, flags.url ?? defaultGatewayUrl(io.env), "POST", body, "/__riskgate/api/penalty/lift");
  if (res === null) return EXIT.FAILED;
  const lifted = res.body as { kind: string; target: string; ladders: string[]; boxed: number };
  if (flags.json) io.out(`${JSON.stringify(lifted, null, 2)}\n`);
  else io.out(`lifted: ${lifted.kind} ${lifted.target} on ${lifted.ladders.join(", ")} (${lifted.boxed} boxed)\n`);
  return EXIT.OK;
}
