// The client-visible invariants end to end inside workerd (issues 13.2 and 16.2,
// docs/architecture.md "What the client sees"), with real history taught by signed
// outcome reports, the real Durable Object store and the demo origin:
//  - a stranger gets the same answer (status, headers, body, cookie shape) for a real
//    account with history (privileged or not) as for a made-up address;
//  - an account flooded with resets from many IPs does not lock its owner out: the
//    owner's known device is forwarded or challenged, never silently denied.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cookieFrom, GATEWAY, postOutcome, type Received, reset, signOutcome } from "../worker/helpers.ts";

const DE = (n: number) => `80.128.${n}.7`; // the owners' network (DE, one ASN)
const JP = (n: number) => `126.0.${n}.9`;
let subnet = 10 + Math.floor(Math.random() * 200);
const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;

/** The owner's verified reset, with the origin's privileged tag: history the way production learns it. */
async function teach(email: string, privileged: boolean): Promise<{ origin: Received; cookie: string }> {
  const { res, origin } = await reset(email, { "cf-connecting-ip": DE(subnet++) });
  if (origin === null) throw new Error(`the owner's first reset for ${email} was not forwarded`);
  const decision = origin.headers?.["riskgate-decision"] ?? "";
  const claims = { jti: crypto.randomUUID(), event: "verified", decision_id: origin.claims?.jti, decision, privileged };
  const outcome = await postOutcome(await signOutcome(claims, { iat: Math.floor(Date.now() / 1000) - 1 }));
  expect(outcome.status).toBe(200);
  expect(await outcome.json()).toMatchObject({ learned: true });
  return { origin, cookie: cookieFrom(res) };
}

/** Everything the client can see of an answer; the device cookie's value (random per device) is masked. */
async function seen(res: Response): Promise<Record<string, unknown>> {
  const headers = [...res.headers.entries()]
    .filter(([name]) => name !== "set-cookie")
    .map(([name, value]) => `${name}: ${/^(date|cf-ray)$/.test(name) ? "…" : value}`)
    .sort();
  const cookie = (res.headers.get("set-cookie") ?? "").replace(/=[^;]*/, "=…");
  // Per-request values (the decision id, the challenge's cdata) are masked; their shape is kept.
  const body = (await res.text()).replace(/"(decision|cdata|id|request_id)":"[^"]*"/g, '"$1":"…"');
  return { status: res.status, headers, cookie, body };
}

/** A reset the way curl sends it: its own user agent, `Accept: *\/*`, nothing a browser adds. */
function curl(email: string, ip: string): Promise<Response> {
  return exports.default.fetch(
    new Request(`${GATEWAY}/password/reset`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "curl/8.5.0", accept: "*/*", "cf-connecting-ip": ip },
      body: JSON.stringify({ email }),
    }),
  );
}

describe("no account enumeration through the answer (13.2)", () => {
  it.each([
    ["with history", false],
    ["privileged, with history", true],
  ])("a stranger gets the same answer for a real account %s as for a made-up one", async (_label, privileged) => {
    const real = unique("real");
    await teach(real, privileged);
    const strangers: Array<[string, (email: string, n: number) => Promise<Response>]> = [
      // curl from the owner's own network (its user agent adds 35 to the stranger's base score)
      ["curl from the owner's network", (email, n) => curl(email, DE(n))],
      // a normal browser from another country
      ["a browser from abroad", async (email, n) => (await reset(email, { "cf-connecting-ip": JP(n) })).res],
    ];
    for (const [label, send] of strangers) {
      const forReal = await seen(await send(real, subnet++));
      const forMadeUp = await seen(await send(unique("madeup"), subnet++));
      expect({ label, ...forReal }).toEqual({ label, ...forMadeUp });
    }
  }, 120_000);
});

describe("the owner is never locked out by a flood (16.2)", () => {
  it("after 50 resets from 50 IPs, the owner's known device is forwarded or challenged, never silently denied", async () => {
    const email = unique("flooded");
    const { cookie } = await teach(email, false);
    // The flood: anyone can send resets for the address, each from its own IP and browser build.
    for (let batch = 0; batch < 5; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => reset(email)));
      for (const { res } of answers) expect([202, 403]).toContain(res.status);
    }
    // The owner, travelling with their own laptop (its signed device cookie): before the
    // split, account velocity (60) + a new country (20) + impossible travel (40) - the
    // known device (20) reached the critical tier and a silent deny.
    const cases: Array<[string, string]> = [
      ["at home", DE(subnet++)],
      ["abroad", JP(subnet++)],
    ];
    for (const [label, ip] of cases) {
      const { res, origin } = await reset(email, { "cf-connecting-ip": ip, cookie });
      const answer = res.status === 403 ? "challenged" : res.status === 202 && origin !== null ? "forwarded" : `status ${res.status}, not forwarded`;
      expect({ label, answer }).toEqual({ label, answer: expect.stringMatching(/^(forwarded|challenged)$/) });
    }
  }, 180_000);
});
