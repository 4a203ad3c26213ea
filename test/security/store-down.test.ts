// Issue 13, item 5: limits hold while the store is down. The store is killed mid-traffic
// on both adapters: the gateway's real adapter is swapped, at the kill, for an adapter
// of the same kind that cannot reach its backend (Upstash: a REST URL on a closed port;
// Durable Object: a namespace whose stubs fail as an unreachable object does), so every
// store call fails through the adapter's own error path with STORE_UNAVAILABLE. The
// isolate's memory (block cache, local counters) survives the kill, as it would.
//
// Before the fix (both fail on that code):
//  (a) one CAPTCHA pass lifted the store fail mode's challenge for 40 of 40 further
//      resets from one IP, because the IP ladder's 429 went uncounted;
//  (b) one token was accepted from 10 of 10 new IPs (a provider that does not spend
//      tokens, here Turnstile's always-passing dummy secret), because the gateway's own
//      single-use record went unread.
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import type { MintOptions } from "../../tools/turnstile-standin/server.mjs";
// Brings in the `turnstile` entry of vitest's ProvidedContext.
import type {} from "../support/captcha-setup.ts";
import { DurableObjectStore, type StoreNamespace } from "../../src/store/durable-object-store.ts";
import type { Store } from "../../src/store/port.ts";
import { UpstashStore } from "../../src/store/upstash.ts";
import { TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";
import { type Flood, flood, lineOf, randomIp, STORE_KINDS, type Sent, type StoreKind } from "../worker/ratelimit-harness.ts";

const turnstile = inject("turnstile");
const FIELD = "cf-turnstile-response";
/** Cloudflare's always-passing dummy secret: siteverify accepts a token any number of times. */
const DUMMY_PASS_SECRET = "1x0000000000000000000000000000000AA";

afterEach(() => {
  vi.useRealTimers();
});

/** An adapter of `kind` whose backend is gone. */
function deadStore(kind: StoreKind): Store {
  if (kind === "upstash") {
    // Nothing listens on the discard port: the connection is refused.
    return new UpstashStore({ url: "http://127.0.0.1:9", token: "gone", timeoutMs: TEST_STORE_TIMEOUT_MS });
  }
  const unreachable = new Proxy(
    {},
    { get: (_, name) => (name === "then" ? undefined : () => Promise.reject(new Error("Network connection lost."))) },
  );
  const namespace = { idFromName: () => ({}), get: () => unreachable } as unknown as StoreNamespace;
  return new DurableObjectStore({ namespace, shards: 1, timeoutMs: TEST_STORE_TIMEOUT_MS });
}

/** A store that is the real adapter until `kill()`, then the dead one (the isolate's cache stays). */
function killSwitch(kind: StoreKind): { wrap: (real: Store) => Store; kill: () => void } {
  let killed = false;
  const dead = deadStore(kind);
  const wrap = (real: Store): Store => {
    const live = () => (killed ? dead : real);
    return {
      name: real.name,
      observe: (r) => live().observe(r),
      cachedBlock: (r) => real.cachedBlock(r),
      recordHistory: (u) => live().recordHistory(u),
      penalize: (u) => live().penalize(u),
      liftPenalty: (l) => live().liftPenalty(l),
      tally: (u) => live().tally(u),
      readTallies: (e) => live().readTallies(e),
      updateRoster: (u) => live().updateRoster(u),
    };
  };
  const kill = () => {
    killed = true;
  };
  return { wrap, kill };
}

async function mint(options: Omit<MintOptions, "sitekey">): Promise<string> {
  const res = await fetch(`${turnstile.url}/__standin/mint`, { method: "POST", body: JSON.stringify({ sitekey: turnstile.siteKey, ...options }) });
  return ((await res.json()) as { token: string }).token;
}

interface Challenge {
  readonly action: string;
  readonly cdata: string;
}

/** Five resets for `email` (the account's free allowance), then the challenged sixth. */
async function challenged(f: Flood, email: string, ip: string): Promise<Challenge> {
  for (let i = 0; i < 5; i++) expect((await f.post({ email }, { ip })).status).toBe(202);
  const sent = await f.post({ email }, { ip });
  expect(sent.status).toBe(403);
  return (sent.body as { challenge: Challenge }).challenge;
}

const solve = (f: Flood, c: Challenge) => mint({ hostname: "gateway.test", action: c.action, cdata: c.cdata, ts: f.now() });
const passFrom = (sent: Sent) =>
  /riskgate_pass=([^;]+)/.exec((sent.headers.getAll("set-cookie") as string[]).find((c) => c.startsWith("riskgate_pass=")) ?? "")?.[1] ?? "";
const email = () => `store-down-${crypto.randomUUID()}@example.com`;
const LOCAL = { dependency: "store", code: "STORE_UNAVAILABLE", failMode: "challenge", fallback: "local-counters" };

describe.each(STORE_KINDS)("store killed mid-traffic, %s adapter", (kind) => {
  it("(a) one CAPTCHA pass does not lift the IP ladder's 429: it is counted locally", async () => {
    const power = killSwitch(kind);
    const f = await flood(kind, undefined, undefined, { store: power.wrap });
    const [user, ip] = [email(), randomIp()];
    const solved = await f.post({ email: user, [FIELD]: await solve(f, await challenged(f, user, ip)) }, { ip });
    expect(solved.status).toBe(202);
    const pass = passFrom(solved);
    expect(pass).toMatch(/^v1\./);

    power.kill();
    const statuses: number[] = [];
    const sent: Sent[] = [];
    for (let i = 0; i < 40; i++) {
      const s = await f.post({ email: user }, { ip, headers: { cookie: `riskgate_pass=${pass}` } });
      statuses.push(s.status);
      sent.push(s);
    }
    const through = statuses.filter((s) => s === 202).length;
    // The pass still lifts the fail mode's challenge, but only up to the 1-minute limit of 20.
    expect(through).toBeGreaterThan(0);
    expect(through).toBeLessThanOrEqual(20);
    const first429 = statuses.indexOf(429);
    expect(first429).toBeGreaterThan(0);
    // Once refused, refused for the rest of the burst (429 then the penalty box).
    expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
    // Requests that were decided during the outage name the failure and the stand-in.
    // (The store's error; the forward's own outcome, if any, is the origin's business.)
    const storeErrors = (s: Sent) => lineOf(s).errors.filter((e) => e.dependency === "store");
    expect(storeErrors(sent[0] as Sent)).toEqual([LOCAL]);
    expect(lineOf(sent[0] as Sent).captcha).toEqual({ status: "passed", via: "pass" });
    const refused = sent[first429] as Sent;
    expect(refused.reasons).toContain("RATE_LIMIT_EXCEEDED rate_limits.ip");
    expect(storeErrors(refused)).toEqual([LOCAL]);
  });

  it("(b) one token is accepted at most once across new IPs while the store is down", async () => {
    const power = killSwitch(kind);
    const f = await flood(kind, undefined, undefined, { store: power.wrap, env: { TURNSTILE_SECRET_KEY: DUMMY_PASS_SECRET } });
    const user = email();
    const token = await solve(f, await challenged(f, user, randomIp()));

    power.kill();
    const statuses: number[] = [];
    const sent: Sent[] = [];
    for (let i = 0; i < 10; i++) {
      const s = await f.post({ email: user, [FIELD]: token }, { ip: randomIp() });
      statuses.push(s.status);
      sent.push(s);
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(lineOf(sent[0] as Sent).captcha).toEqual({ status: "passed", via: "token" });
    for (const replay of sent.slice(1)) {
      expect(replay.status).toBe(403);
      expect(lineOf(replay).captcha).toEqual({ status: "failed", code: "CAPTCHA_REPLAYED" });
      expect(lineOf(replay).errors).toEqual([LOCAL]);
    }
  });
});
