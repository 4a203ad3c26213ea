// Scripted floods through the whole gateway in workerd, on the embedded Durable Object
// store and on Upstash (real redis-server behind the REST bridge), with the clock under
// control. Each climbs the ladder docs/rate-limits.md documents for the shipped rules:
//
//   one IP      10/10 min free → CAPTCHA → 429 above 20/min → box 1, 2, 4 min … (capped), decaying 1 level/h
//   one subnet  30/10 min free → CAPTCHA → 429 above 60/min, for every IP of the /24
//   many IPs    a site-wide surge → CAPTCHA for everyone, never a 429
//   one account 5/h free → CAPTCHA, never a 429; the owner on a known device is waived
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEVICE_COOKIE, newDeviceId, signDeviceId } from "../../src/context/device-cookie.ts";
import { bundledRuleset } from "../../src/scoring/ruleset/bundled.ts";
import { compileRuleset } from "../../src/scoring/ruleset/compile.ts";
import { type Flood, flood, lineOf, randomIp, randomIpv4Subnet, STORE_KINDS, type Sent, uniqueUa } from "./ratelimit-harness.ts";

afterEach(() => {
  vi.useRealTimers();
});

const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * `n` resets from `ip`, 50 ms apart, each for a new account, from three browsers in turn:
 * one script. (Four or more browsers with few resets each are a crowd behind a NAT, for
 * which the ip ladder waives its CAPTCHA: the test below.)
 */
async function burst(f: Flood, n: number, ip: string | ((i: number) => string)): Promise<Sent[]> {
  const browsers = [uniqueUa("b0"), uniqueUa("b1"), uniqueUa("b2")];
  const sent: Sent[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) f.advance(50);
    const from = typeof ip === "string" ? ip : ip(i);
    sent.push(await f.post({ email: `u-${crypto.randomUUID()}@example.com` }, { ip: from, ua: browsers[i % browsers.length] as string }));
  }
  return sent;
}

const statuses = (sent: readonly Sent[]) => sent.map((s) => s.status);
const has = (s: Sent, reason: string) => s.reasons.includes(reason);
const repeat = <T>(n: number, value: T): T[] => new Array<T>(n).fill(value);
/** Forwarded to the origin (a 202 is also the answer of a silent deny). */
const forwarded = (s: Sent) => s.status === 202 && s.line?.verdict !== "deny";

describe.each(STORE_KINDS)("ladders on the %s store", (kind) => {
  it("one IP climbs allow → CAPTCHA → 429 → a penalty box that doubles, then decays", async () => {
    const f = await flood(kind);
    const ip = randomIp();
    const first = await burst(f, 21, ip);
    expect(statuses(first)).toEqual([...repeat(10, 202), ...repeat(10, 403), 429]);
    expect(first.slice(0, 10).some((s) => s.reasons.some((r) => r.startsWith("RATE_LIMIT")))).toBe(false);
    expect(first.slice(10, 20).every((s) => has(s, "RATE_LIMIT_CHALLENGE rate_limits.ip"))).toBe(true);
    const violation = first[20] as Sent;
    expect(has(violation, "RATE_LIMIT_EXCEEDED rate_limits.ip")).toBe(true);
    // The minute's window resets in 59 s, but the first box is 1 min: Retry-After 60.
    expect(violation.retryAfter).toBe(60);
    expect(violation.body).toMatchObject({ status: "rate_limited", retry_after: 60 });

    // Inside the box: refused with the box's remaining time by the screen stage, from the
    // isolate's cache, before the body is read: no decision, one ratelimit.refused event.
    f.advance(30_000);
    const boxed = await f.post({ email: "late@example.com" }, { ip });
    expect([boxed.status, boxed.retryAfter]).toEqual([429, 30]); // the violation was at 0:01, the box ends at 1:01
    expect(has(boxed, "PENALTY_BOX rate_limits.ip")).toBe(true);
    expect(boxed.line).toBeNull(); // not scored: nothing was counted
    expect(boxed.refused).toMatchObject({ ladder: "ip", step: "penalty", key: "ip", count: 1, retry_after_s: 30 });
    // The body is never read: without an identifier it would be a 400 otherwise.
    const unread = await f.post({}, { ip });
    expect([unread.status, unread.line, unread.refused?.step]).toEqual([429, null, "penalty"]);
    // Another address is not affected: its missing identifier is a 400.
    expect((await f.post({}, { ip: randomIp() })).status).toBe(400);

    // Box over at 1:01. The sliding window still remembers the first burst (19 of 20 at
    // 1:03), so the third request reaches the limit again: the second violation, 2 min.
    f.at(63_000);
    const second = await burst(f, 3, ip);
    expect(statuses(second)).toEqual([403, 403, 429]);
    expect(second[2]?.retryAfter).toBe(120);

    // That box ends at ~3:03. A new burst at 3:05 earns the third rung: 4 min.
    f.at(3 * MIN + 5000);
    const third = await burst(f, 21, ip);
    // The 10-minute CAPTCHA step still holds: each is challenged, or silently denied once
    // the score reaches the critical tier (silent deny ranks above a CAPTCHA); none is forwarded.
    const held = third.slice(0, 20);
    expect(held.every((s) => has(s, "RATE_LIMIT_CHALLENGE rate_limits.ip"))).toBe(true);
    expect(held.every((s) => s.status === 403 || (s.status === 202 && s.line?.verdict === "deny"))).toBe(true);
    expect(third[20]?.status).toBe(429);
    expect(third[20]?.retryAfter).toBe(240);

    // The box ends at ~7:06. Two hours of good behaviour after it forget two of the three
    // levels: the next violation earns the second rung (2 min), not the fourth (8 min).
    f.at(3 * MIN + 6000 + 4 * MIN + 2 * HOUR + 1000);
    const later = await burst(f, 21, ip);
    expect(statuses(later)).toEqual([...repeat(10, 202), ...repeat(10, 403), 429]);
    expect(later[20]?.retryAfter).toBe(120);
  });

  it("a crowd behind one address (a campus NAT) is spared the ip ladder's CAPTCHA; one browser asking for many accounts is not", async () => {
    const f = await flood(kind);
    // 16 students behind one campus address within five minutes, each on their own browser.
    const campus = randomIp();
    const crowd: Sent[] = [];
    for (let i = 0; i < 16; i++) {
      f.advance(20_000);
      crowd.push(await f.post({ email: `student-${crypto.randomUUID()}@example.com` }, { ip: campus, ua: uniqueUa(`student${i}`) }));
    }
    expect(statuses(crowd)).toEqual(repeat(16, 202));
    expect(crowd.some((s) => has(s, "RATE_LIMIT_CHALLENGE rate_limits.ip"))).toBe(false);

    // One browser (a script) at the same pace from another address: the ladder's CAPTCHA
    // from the 11th (accounts-per-device has scored it from the 5th, velocity-device from
    // the 11th: challenged, or silently denied once the score is critical).
    const host = randomIp();
    const script = uniqueUa("script");
    const one: Sent[] = [];
    for (let i = 0; i < 12; i++) {
      f.advance(20_000);
      one.push(await f.post({ email: `u-${crypto.randomUUID()}@example.com` }, { ip: host, ua: script }));
    }
    expect(one.slice(10).every((s) => has(s, "RATE_LIMIT_CHALLENGE rate_limits.ip") && !forwarded(s))).toBe(true);
  });

  it("a script rotating browsers on one address reads as a crowd until its count gives it away", async () => {
    const f = await flood(kind);
    const ip = randomIp();
    const sent: Sent[] = [];
    // 31 resets 15 s apart (four a minute: below the 429 step), a new browser each time.
    for (let i = 0; i < 31; i++) {
      f.advance(15_000);
      sent.push(await f.post({ email: `u-${crypto.randomUUID()}@example.com` }, { ip, ua: uniqueUa(`r${i}`) }));
    }
    // Up to 20 it is forwarded (from the 10th at medium: accounts-per-ip); from the 21st the
    // score (velocity-ip + accounts-per-ip) asks for a CAPTCHA, from the 30th it is critical
    // (accounts-per-subnet too: a silent deny); from the 31st the ladder's CAPTCHA is back.
    expect(sent.map(forwarded)).toEqual([...repeat(20, true), ...repeat(11, false)]);
    expect(sent.slice(0, 30).some((s) => has(s, "RATE_LIMIT_CHALLENGE rate_limits.ip"))).toBe(false);
    expect(has(sent[30] as Sent, "RATE_LIMIT_CHALLENGE rate_limits.ip")).toBe(true);
  });

  it("the box stops growing at its cap (factor 3, cap 2 min)", async () => {
    const shipped = bundledRuleset();
    const ip = shipped.spec.rate_limits.ip;
    if (ip === undefined) throw new Error("the shipped rules have an ip ladder");
    const capped = compileRuleset(
      { ...shipped.spec, rate_limits: { ...shipped.spec.rate_limits, ip: { ...ip, penalty: { base: "1m", factor: 3, max: "2m", decay: "1h" } } } },
      "test-ip-cap",
    );
    const f = await flood(kind, capped);
    const addr = randomIp();
    expect((await burst(f, 21, addr)).at(-1)?.retryAfter).toBe(60); // 1 min
    f.at(63_000);
    expect((await burst(f, 3, addr)).at(-1)?.retryAfter).toBe(120); // 3 min, capped at 2
    f.at(3 * MIN + 5000);
    expect((await burst(f, 21, addr)).at(-1)?.retryAfter).toBe(120); // 9 min, capped at 2
  });

  it("one subnet climbs allow → CAPTCHA → 429 for every address in the /24", async () => {
    const f = await flood(kind);
    const net = randomIpv4Subnet();
    // 8 requests per address: no single IP reaches its own CAPTCHA step (10).
    const sent = await burst(f, 61, (i) => `${net}.${Math.floor(i / 8) + 1}`);
    expect(statuses(sent)).toEqual([...repeat(30, 202), ...repeat(30, 403), 429]);
    expect(sent.slice(30, 60).every((s) => has(s, "RATE_LIMIT_CHALLENGE rate_limits.subnet") && !has(s, "RATE_LIMIT_CHALLENGE rate_limits.ip"))).toBe(true);
    expect(has(sent[60] as Sent, "RATE_LIMIT_EXCEEDED rate_limits.subnet")).toBe(true);
    expect(sent[60]?.retryAfter).toBe(60);

    f.advance(1000);
    const fresh = await f.post({ email: "fresh@example.com" }, { ip: `${net}.200`, ua: uniqueUa("fresh") });
    expect(fresh.status).toBe(429);
    expect(has(fresh, "PENALTY_BOX rate_limits.subnet")).toBe(true);
    const elsewhere = await f.post({ email: "elsewhere@example.com" }, { ip: randomIp(), ua: uniqueUa("elsewhere") });
    expect(elsewhere.status).toBe(202);
  });

  it("one account flooded from many IPs climbs to CAPTCHA only; its owner still resets", async () => {
    const f = await flood(kind);
    const victim = `victim-${crypto.randomUUID()}@example.com`;
    const ownerUa = uniqueUa("owner-laptop");
    const ownerIp = randomIp();
    // The owner completed a verified reset on this laptop before (history from an outcome).
    const { hasher, store } = f.gateway;
    // The laptop carries the signed device cookie it was given then (src/context/device-cookie.ts).
    const laptop = newDeviceId();
    const cookie = `${DEVICE_COOKIE}=${await signDeviceId(laptop, hasher)}`;
    const [account, device] = await Promise.all([hasher.hash("account", victim), hasher.hash("device", `cookie:${laptop}`)]);
    await store.recordHistory({ historyKey: `h:${account}`, device, country: null, asn: null, location: null, at: f.now() - HOUR });

    const attack: Sent[] = [];
    for (let i = 0; i < 40; i++) {
      f.advance(200);
      attack.push(await f.post({ email: victim }, { ip: randomIp(), ua: uniqueUa(`bot${i}`) }));
    }
    expect(statuses(attack.slice(0, 5))).toEqual(repeat(5, 202));
    // Random addresses can land on a listed network and score a silent deny (a 202 that is
    // not forwarded); what matters is that none after the fifth is forwarded, and none is a 429.
    expect(attack.slice(5).every((s) => s.status === 403 || (s.status === 202 && s.line?.verdict === "deny"))).toBe(true);
    expect(attack.slice(5).every((s) => has(s, "RATE_LIMIT_CHALLENGE rate_limits.account"))).toBe(true);

    // The owner's known laptop: the account's CAPTCHA step is waived, the reset goes through.
    const owner = await f.post({ email: victim }, { ip: ownerIp, ua: ownerUa, headers: { cookie } });
    expect(owner.status).toBe(202);
    expect(owner.reasons).toContain("DEVICE_KNOWN device-known");
    expect(owner.reasons.some((r) => r.startsWith("RATE_LIMIT"))).toBe(false);
    expect(lineOf(owner).rate_limits).toContainEqual({ name: "account", step: "allow", waived: true, level: 0 });

    // The flood goes on, and so can the owner.
    const more = await burst(f, 5, () => randomIp());
    expect(more.every((s) => s.status !== 429)).toBe(true);
    const again = await f.post({ email: victim }, { ip: ownerIp, ua: ownerUa, headers: { cookie } });
    expect(again.status).toBe(202);
  });

  it("a surge from many IPs asks everyone for a CAPTCHA, never a 429", async () => {
    // The shipped global step is 1000/min (size it at ~3x peak); the climb is the same at 30.
    const shipped = bundledRuleset();
    const surge = compileRuleset(
      { ...shipped.spec, rate_limits: { ...shipped.spec.rate_limits, global: { key: "global", steps: [{ action: "captcha", limit: 30, window: "1m" }] } } },
      "test-global-30",
    );
    const f = await flood(kind, surge);
    const sent = await burst(f, 40, () => randomIp());
    expect(statuses(sent)).toEqual([...repeat(30, 202), ...repeat(10, 403)]);
    expect(sent.slice(30).every((s) => has(s, "RATE_LIMIT_CHALLENGE rate_limits.global"))).toBe(true);
  });
});
