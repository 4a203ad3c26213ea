// The account roster end to end inside workerd (POST /v1/accounts, rules/roster.yaml),
// with the real Durable Object store and the demo origin:
//  - a reset for an address the loaded roster does not hold gets byte for byte the answer
//    a real account gets, and never reaches the origin;
//  - a roster the origin has not marked loaded denies nothing;
//  - a forged or unsigned statement is refused and changes nothing;
//  - a respelling of an existing address is that account;
//  - a statement with one bad address is refused whole.
// Every test turns the roster off again before it ends.
import { exports } from "cloudflare:workers";
import { exportJWK, generateKeyPair } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { GATEWAY, reset, signOutcome } from "../worker/helpers.ts";

const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
const ACCOUNTS_TYP = "riskgate-accounts+jwt";

/** A roster statement signed as the origin signs it (the development origin key by default). */
function signAccounts(claims: Record<string, unknown>, options: Parameters<typeof signOutcome>[1] = {}): Promise<string> {
  return signOutcome({ jti: crypto.randomUUID(), ...claims }, { typ: ACCOUNTS_TYP, ...options });
}

function postAccounts(body: string): Promise<Response> {
  return exports.default.fetch(`${GATEWAY}/v1/accounts`, { method: "POST", headers: { "content-type": "application/jwt" }, body });
}

async function accounts(claims: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await postAccounts(await signAccounts(claims));
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

/** Everything the client can see of an answer; the device cookie's value (random per device) is masked. */
async function seen(res: Response): Promise<Record<string, unknown>> {
  const headers = [...res.headers.entries()]
    .filter(([name]) => name !== "set-cookie")
    .map(([name, value]) => `${name}: ${/^(date|cf-ray)$/.test(name) ? "…" : value}`)
    .sort();
  const cookie = (res.headers.get("set-cookie") ?? "").replace(/=[^;]*/, "=…");
  const body = (await res.text()).replace(/"(decision|cdata|id|request_id)":"[^"]*"/g, '"$1":"…"');
  return { status: res.status, headers, cookie, body };
}

afterEach(async () => {
  await accounts({ loaded: false });
});

describe("the account roster (POST /v1/accounts)", () => {
  it("a reset for an address with no account gets the same answer as a real account's and never reaches the origin", async () => {
    const real = unique("real");
    const madeUp = unique("madeup");
    const loaded = await accounts({ add: [real, unique("other")], loaded: true });
    expect(loaded).toMatchObject({ status: "accepted", added: 2, removed: 0, roster: { loaded: true } });
    const forReal = await reset(real);
    const forMadeUp = await reset(madeUp);
    expect(await seen(forMadeUp.res)).toEqual(await seen(forReal.res));
    expect(forReal.res.status).toBe(202);
    expect(forReal.origin?.accepted).toBe(true);
    // Waited the whole forward backstop: the origin never received it.
    expect(forMadeUp.origin).toBeNull();
  }, 120_000);

  it("a respelling of an existing address is that account (case, +tag, a trailing dot)", async () => {
    const local = `Real.${crypto.randomUUID().slice(0, 8)}`;
    await accounts({ add: [`${local}@example.com`], loaded: true });
    const { res, origin } = await reset(`  ${local.toUpperCase()}+reset@EXAMPLE.com. `);
    expect(res.status).toBe(202);
    expect(origin?.accepted).toBe(true);
  }, 60_000);

  it("denies nothing until the origin marks the roster loaded, and nothing once it turns it off", async () => {
    const member = unique("member");
    await accounts({ add: [member] });
    const before = await reset(unique("notyet"));
    expect(before.origin?.accepted).toBe(true);
    await accounts({ loaded: true });
    await accounts({ loaded: false });
    const after = await reset(unique("off-again"));
    expect(after.origin?.accepted).toBe(true);
  }, 120_000);

  it("an account removed from the roster is denied silently; added again, it is forwarded", async () => {
    const email = unique("leaving");
    await accounts({ add: [email], loaded: true });
    await accounts({ remove: [email] });
    expect((await reset(email)).origin).toBeNull();
    await accounts({ add: [email] });
    expect((await reset(email)).origin?.accepted).toBe(true);
  }, 120_000);

  it("refuses a forged, unsigned or mistyped statement, and it changes nothing", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const rogue = { ...(await exportJWK(privateKey)), kid: "dev-origin-2026-1", alg: "ES256" };
    const forged = await signAccounts({ add: [], loaded: true }, { key: rogue });
    const header = btoa(JSON.stringify({ alg: "none", typ: ACCOUNTS_TYP })).replace(/=+$/, "");
    const payload = btoa(JSON.stringify({ jti: "x", iat: Math.floor(Date.now() / 1000), aud: "riskgate", loaded: true })).replace(/=+$/, "");
    const unsigned = `${header}.${payload}.AAAA`;
    // A genuine outcome-report signature does not make a roster statement.
    const outcomeTyped = await signOutcome({ jti: crypto.randomUUID(), loaded: true });
    const stale = await signAccounts({ loaded: true }, { iat: Math.floor(Date.now() / 1000) - 3600 });
    for (const body of [forged, unsigned, outcomeTyped, stale]) {
      const res = await postAccounts(body);
      expect({ status: res.status, code: await errorCode(res) }).toEqual({ status: 401, code: "ERR_ACCOUNTS_SIGNATURE" });
    }
    const res = await postAccounts("not a jws");
    expect({ status: res.status, code: await errorCode(res) }).toEqual({ status: 400, code: "ERR_ACCOUNTS_INVALID" });
    // Still off: a made-up address is forwarded.
    expect((await reset(unique("after-forgery"))).origin?.accepted).toBe(true);
  }, 120_000);

  it.each([
    ["an empty address in the list", { add: ["ok@example.com", "   "], loaded: true }, "add[1]"],
    ["a non-string address", { add: ["ok@example.com", 42], loaded: true }, "add[1]"],
    ["the same account added and removed (two spellings)", { add: ["Both@example.com"], remove: ["both@example.com"], loaded: true }, "remove[0]"],
    ["loaded that is not a boolean", { add: ["ok@example.com"], loaded: "yes" }, "loaded"],
    ["an unknown field", { add: ["ok@example.com"], load: true }, "unknown field"],
    ["an empty statement", {}, "empty statement"],
  ])("refuses %s with a 400 naming it, and applies nothing", async (_label, claims, names) => {
    const res = await postAccounts(await signAccounts(claims));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("ERR_ACCOUNTS_INVALID");
    expect(error.message).toContain(names);
    // Nothing applied: the roster was not turned on, so a made-up address is forwarded.
    expect((await reset(unique("after-bad"))).origin?.accepted).toBe(true);
  }, 60_000);

  it("applies no part of a refused statement: its good addresses are not added", async () => {
    const good = unique("good");
    const res = await postAccounts(await signAccounts({ add: [good, ""] }));
    expect(res.status).toBe(400);
    await accounts({ add: [unique("someone")], loaded: true });
    expect((await reset(good)).origin).toBeNull();
  }, 60_000);
});
