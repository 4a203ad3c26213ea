// The origin's privileged tag, end to end inside workerd: a signed outcome report sets or
// clears it (POST /v1/outcomes → store history), and the account's next reset reads it
// into `account.privileged`, so the rule file's stricter tier table decides.
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { postOutcome, type Received, reset, signOutcome } from "./helpers.ts";

let subnet = 100 + Math.floor(Math.random() * 100);

/** A reset from its own /24 (so this file's requests never trip the IP or subnet ladders). */
async function forwarded(email: string): Promise<Received> {
  const { origin } = await reset(email, { "cf-connecting-ip": `80.128.${subnet++}.7` });
  if (origin === null) throw new Error(`reset for ${email} was not forwarded`);
  return origin;
}

/** What the origin saw of a decision: tier, first channel, and whether it was privileged. */
function seenByOrigin(origin: Received): { tier: unknown; channel: unknown; privileged: boolean } {
  const reasons = (origin.claims?.reasons as string[] | undefined) ?? [];
  return { tier: origin.claims?.tier, channel: origin.claims?.channel, privileged: reasons.includes("ACCOUNT_PRIVILEGED") };
}

const NORMAL = { tier: "low", channel: "email_link", privileged: false };
const STRICT = { tier: "medium", channel: "email_otp", privileged: true };

/** Report a `sent` outcome for a forwarded request, with the origin's tag and signing time. */
async function tag(origin: Received, privileged: unknown, iat: number, key?: JWK): Promise<Response> {
  const decision = origin.headers?.["riskgate-decision"] ?? "";
  const claims = { jti: crypto.randomUUID(), event: "sent", decision_id: origin.claims?.jti, decision, privileged };
  return postOutcome(await signOutcome(claims, key === undefined ? { iat } : { iat, key }));
}

const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
const seconds = () => Math.floor(Date.now() / 1000);

describe("the origin's privileged tag", () => {
  it("a signed outcome tags the account: its resets get the stricter table, other accounts do not", async () => {
    const [admin, user] = [unique("admin"), unique("user")];
    const first = await forwarded(admin);
    expect(seenByOrigin(first)).toEqual(NORMAL);
    const now = seconds();
    const res = await tag(first, true, now - 3);
    expect(res.status).toBe(200);
    // `sent` teaches no history; the tag is the origin's statement, not the user's proof.
    expect(await res.json()).toMatchObject({ event: "sent", learned: false, privileged: true });
    const cases: Array<[string, string, typeof NORMAL]> = [
      ["the tagged account", admin, STRICT],
      ["another account", user, NORMAL],
    ];
    for (const [label, email, expected] of cases) {
      expect({ label, ...seenByOrigin(await forwarded(email)) }).toEqual({ label, ...expected });
    }
  });

  it("privileged: false clears the tag, and an older statement arriving late does not bring it back", async () => {
    const admin = unique("demoted");
    const first = await forwarded(admin);
    const now = seconds();
    expect((await tag(first, true, now - 3)).status).toBe(200);
    const second = await forwarded(admin);
    expect(seenByOrigin(second)).toEqual(STRICT);
    expect(await (await tag(second, false, now - 1)).json()).toMatchObject({ privileged: false });
    expect(seenByOrigin(await forwarded(admin))).toEqual(NORMAL);
    // A retry of the first, older report (signed before the clear) is accepted but changes nothing.
    expect((await tag(first, true, now - 2)).status).toBe(200);
    expect(seenByOrigin(await forwarded(admin))).toEqual(NORMAL);
  });

  it.each([
    ["a privileged claim that is not a boolean", "yes", 400, "ERR_OUTCOME_INVALID"],
    ["a report signed by a key the gateway does not trust", true, 401, "ERR_OUTCOME_SIGNATURE"],
  ])("refuses %s, and the account stays untagged", async (label, privileged, status, code) => {
    const account = unique("rogue");
    const first = await forwarded(account);
    let key: JWK | undefined;
    if (status === 401) {
      const { privateKey } = await generateKeyPair("ES256", { extractable: true });
      key = { ...(await exportJWK(privateKey)), kid: "dev-origin-2026-1", alg: "ES256" };
    }
    const res = await tag(first, privileged, seconds(), key);
    expect({ label, status: res.status }).toEqual({ label, status });
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(seenByOrigin(await forwarded(account))).toEqual(NORMAL);
  });
});
