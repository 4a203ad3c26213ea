// Operator actions on accounts and penalty boxes (docs/operations.md, "Block an account",
// "Lift a penalty box"), end to end through the admin API: a blocked account's resets are
// silently denied (ACCOUNT_BLOCKED in the decision log) while the client sees exactly
// what another account gets; releasing it lets the next reset through; the address is
// HMAC'd before it is stored or logged. A lifted penalty box lets the next request past
// the ladder. Each action is an audit event, behind the same admin authentication.
import { beforeAll, describe, expect, it } from "vitest";
import { createAdminAuth } from "../../src/admin/auth.ts";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import type { Gateway } from "../../src/gateway/gateway.ts";
import { testGateway } from "../worker/gateway-harness.ts";
import { call, hub, reset } from "../worker/support/http.ts";

let gateway: Gateway;
let lines: DecisionLogLine[];
const BEARER = { authorization: `Bearer ${DEV_ADMIN_TOKEN}` };

beforeAll(async () => {
  const built = await testGateway({});
  lines = built.lines;
  gateway = { ...built.gateway, admin: await createAdminAuth({ token: DEV_ADMIN_TOKEN, access: null }) };
});

function admin(path: string, method: string, body: Record<string, unknown>, headers: Record<string, string> = BEARER): Promise<Response> {
  return call(gateway, `/__riskgate/api/${path}`, { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** What the client sees (status, body, header names) and the decision logged for it. */
async function attempt(email: string, ip: string): Promise<{ seen: unknown; line: DecisionLogLine }> {
  const before = lines.length;
  const res = await reset(gateway, { email }, { "cf-connecting-ip": ip });
  const line = lines.slice(before).at(-1);
  if (line === undefined) throw new Error("no decision logged");
  const names = [...res.headers.keys()].filter((n) => n !== "set-cookie").sort();
  return { seen: { status: res.status, body: await res.text(), headers: names }, line };
}

const codes = (line: DecisionLogLine) => line.reasons.map((r) => r.code);

describe("account block", () => {
  it("silently denies the account's resets, in any spelling, with ACCOUNT_BLOCKED; release lets the next through", async () => {
    const victim = "Victim.Block@example.com";
    expect((await attempt(victim, "198.51.100.11")).line.action).toBe("forwarded");

    const added = await admin("lists", "POST", { account: victim, reason: "takeover in progress", expires: "2h", source: "cli" });
    expect(added.status).toBe(201);
    const entry = ((await added.json()) as { entry: { target: string; kind: string } }).entry;
    expect(entry.kind).toBe("account");
    expect(entry.target).toMatch(/^account:[A-Za-z0-9_-]{22}$/);

    const blocked = await attempt(victim, "198.51.100.12");
    const other = await attempt("someone.else@example.com", "198.51.100.13");
    expect(blocked.line.verdict).toBe("deny");
    expect(blocked.line.action).toBe("silent_deny");
    expect(codes(blocked.line)).toContain("ACCOUNT_BLOCKED");
    expect(other.line.action).toBe("forwarded");
    // The enumeration promise: the client cannot tell the blocked account from another.
    expect(blocked.seen).toEqual(other.seen);
    // Canonicalised as the reset path does: a +tag, case and whitespace reach the same block.
    const tagged = await attempt("  victim.block+x@EXAMPLE.com ", "198.51.100.14");
    expect(codes(tagged.line)).toContain("ACCOUNT_BLOCKED");
    // The block matches its decisions by eye: `account_counted` is the block's HMAC in every
    // spelling, while `account` (the exact form, history's key) differs for the +tag one.
    expect(`account:${blocked.line.account_counted}`).toBe(entry.target);
    expect(`account:${tagged.line.account_counted}`).toBe(entry.target);
    expect(`account:${tagged.line.account}`).not.toBe(entry.target);

    // Nothing stored or returned names the address.
    const rows = await hub().listEntries();
    expect(JSON.stringify(rows)).not.toMatch(/victim|example\.com/i);
    const listed = await (await call(gateway, "/__riskgate/api/lists", { headers: BEARER })).text();
    expect(listed).not.toMatch(/victim|example\.com/i);

    const released = await admin("lists", "DELETE", { account: "victim.block@example.com", reason: "owner confirmed" });
    expect(released.status).toBe(200);
    const after = await attempt(victim, "198.51.100.15");
    expect(after.line.action).toBe("forwarded");
    expect(codes(after.line)).not.toContain("ACCOUNT_BLOCKED");
    await expect.poll(async () => hub().prometheus(), { timeout: 60_000 }).toMatch(/riskgate_list_changes_total\{[^}]*action="remove"[^}]*kind="account"/);
  });

  it("refuses an account on another list, an empty address, a missing reason and unauthenticated writes", async () => {
    expect((await admin("lists", "POST", { account: "a@example.com", list: "allow", reason: "x" })).status).toBe(400);
    expect((await admin("lists", "POST", { account: "   ", reason: "x" })).status).toBe(400);
    expect((await admin("lists", "POST", { account: "a@example.com", reason: "" })).status).toBe(400);
    expect((await admin("lists", "POST", { account: "a@example.com", reason: "x" }, {})).status).toBe(401);
  });
});

describe("penalty lift", () => {
  it("a lifted penalty box lets the next request from that IP past the ladder", async () => {
    const ip = "198.51.100.77";
    const send = (n: number) => reset(gateway, { email: `flood-${n}@example.com` }, { "cf-connecting-ip": ip });
    // Flood one IP until the ip ladder refuses it (its block step is 20 a minute) and boxes it.
    let n = 0;
    while (n < 40 && (await send(n)).status !== 429) n++;
    expect(n).toBeLessThan(40);
    // Boxed: the screen stage now refuses the address before reading the request.
    const before = lines.length;
    expect((await send(++n)).status).toBe(429);
    expect(lines.length).toBe(before);

    const lifted = await admin("penalty/lift", "POST", { key: ip, reason: "office NAT, false positive", source: "cli" });
    expect(lifted.status).toBe(200);
    const body = (await lifted.json()) as { kind: string; target: string; ladders: string[]; boxed: number };
    expect(body).toMatchObject({ kind: "ip", ladders: ["ip"], boxed: 1 });
    expect(body.target).not.toContain(ip);

    const next = await attempt(`flood-${n + 1}@example.com`, ip);
    expect((next.seen as { status: number }).status).not.toBe(429);
    expect(codes(next.line)).not.toContain("PENALTY_BOX");
    expect(codes(next.line)).not.toContain("RATE_LIMIT_EXCEEDED");
    await expect.poll(async () => hub().prometheus(), { timeout: 60_000 }).toMatch(/riskgate_penalty_lifts_total\{[^}]*kind="ip"/);
  });

  it("resolves subnets, accounts and device keys; refuses a subnet no ladder counts, no reason, no session", async () => {
    const ok = async (key: string) => ((await admin("penalty/lift", "POST", { key, reason: "test" })).json()) as Promise<{ kind: string; target: string }>;
    expect(await ok("198.51.100.0/24")).toMatchObject({ kind: "subnet", target: "198.51.100.0/24" });
    expect(await ok("2001:db8:1:100::/56")).toMatchObject({ kind: "net56" });
    const account = await ok("Someone@Example.com");
    expect(account.kind).toBe("account");
    expect(account.target).not.toMatch(/example/i);
    expect(await ok(`device:${"A".repeat(22)}`)).toMatchObject({ kind: "device" });
    expect((await admin("penalty/lift", "POST", { key: "198.51.100.0/25", reason: "x" })).status).toBe(400);
    expect((await admin("penalty/lift", "POST", { key: "198.51.100.9", reason: "" })).status).toBe(400);
    expect((await admin("penalty/lift", "POST", { key: "198.51.100.9", reason: "x" }, {})).status).toBe(401);
  });
});
