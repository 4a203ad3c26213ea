// The pure parts of the labelled evaluation (npm run eval, tools/eval/): the seeded PRNG,
// the classification of what a client saw, the aggregation into the summary, and the
// browser population. The eval itself needs a running gateway; these do not.
import { describe, expect, it } from "vitest";
import { accountsOf, aggregate, classify, FINISH_SHARE, finishers, formatTable, rng, type Result, teachSetups, tools, worst } from "../../tools/eval/core.mjs";
import { BROWSERS, browser, browserHeaders, CONSUMER_VPN, PRIVATE_RELAY } from "../../tools/eval/population.mjs";
import { plan } from "../../tools/eval/scenarios.mjs";

describe("eval PRNG", () => {
  it("is deterministic given the seed and differs between seeds", () => {
    const a = rng(42);
    const b = rng(42);
    const c = rng(43);
    const xs = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it("weighted picks follow the weights", () => {
    const t = tools(rng(7));
    const seen = { a: 0, b: 0 };
    for (let i = 0; i < 10_000; i++) seen[t.weighted({ a: 9, b: 1 })]++;
    expect(seen.a / 10_000).toBeGreaterThan(0.87);
    expect(seen.a / 10_000).toBeLessThan(0.93);
  });
});

describe("eval classification", () => {
  it("tells a forward from a silent deny only by what the origin received", () => {
    expect(classify({ status: 202, forwarded: true })).toBe("forwarded");
    expect(classify({ status: 202, forwarded: false })).toBe("silently_denied");
    expect(classify({ status: 403, forwarded: false })).toBe("challenged");
    expect(classify({ status: 429, forwarded: false })).toBe("rate_limited");
    expect(classify({ status: 500, forwarded: false })).toBe("error");
  });

  it("summarises shares per group and the flooded owner's worst outcome", () => {
    const r = (group: Result["group"], outcome: Result["outcome"], extra: Partial<Result> = {}): Result => ({ cls: `${group} class`, group, outcome, ...extra });
    const results: Result[] = [
      r("legit", "forwarded", { tier: "low", channel: "email_link" }),
      r("legit", "forwarded", { tier: "low", channel: "email_link" }),
      r("legit", "challenged"),
      r("legit", "rate_limited"),
      r("attack", "forwarded", { tier: "medium", channel: "email_otp", channels: ["email_otp", "sms_otp"] }),
      r("attack", "silently_denied"),
      r("attack", "silently_denied"),
      r("attack", "challenged"),
      r("attack", "forwarded", { tier: "low", channel: "email_link" }),
      r("owner", "forwarded", { role: "owner-known-device" }),
      r("owner", "challenged", { role: "owner-new-device" }),
    ];
    const { summary, rows, overall } = aggregate(results);
    expect(summary.attack_forwarded).toBe(0.4);
    expect(summary.attack_forwarded_low_tier).toBe(0.2);
    expect(summary.legit_friction).toBe(0.5);
    expect(summary.legit_blocked).toBe(0.25);
    expect(summary.owner_after_flood).toBe("forwarded");
    expect(summary.owner_after_flood_new_device).toBe("challenged");
    expect(overall.attack.sms_usable).toBe(1);
    expect(rows.map((x) => x.cls)).toEqual(["legit class", "attack class", "owner class"]);
    expect(formatTable({ summary, rows, overall }).join("\n")).toContain("ALL legitimate");
    expect(worst("challenged", "silently_denied")).toBe("silently_denied");
  });
});

describe("eval browser population", () => {
  it("sends client hints exactly for Chromium browsers, consistent with the UA", () => {
    const t = tools(rng(1));
    for (const [kind] of BROWSERS) {
      const b = browser(t, kind);
      const h = browserHeaders(b, "en-US,en;q=0.9");
      const chromium = /Chrome\/|Edg\/|OPR\/|SamsungBrowser/.test(b.ua) && !/CriOS|iPhone/.test(b.ua);
      expect(h["sec-ch-ua"] !== undefined, kind).toBe(chromium);
      if (chromium) {
        expect(h["sec-ch-ua-mobile"], kind).toBe(b.mobile ? "?1" : "?0");
        const major = /Chrome\/(\d+)/.exec(b.ua)?.[1];
        expect(h["sec-ch-ua"], kind).toContain(`"Chromium";v="${major}"`);
      }
    }
  });
});

describe("eval plan: legitimate VPN users, Private Relay and travellers", () => {
  // Addresses stand for (ASN, country) pairs, so the test can see where each step comes from.
  const where = new Map<string, { asn: number; country: string }>();
  const net = {
    draw: (_t: unknown, asn: number, country: string) => {
      const ip = `10.0.${Math.floor(where.size / 250)}.${(where.size % 250) + 1}`;
      where.set(ip, { asn, country });
      return ip;
    },
    has: () => true,
  };
  const actors = [1, 2, 101, 102].flatMap((seed) => plan(seed, net).actors);
  const steps = (cls: string) => actors.flatMap((a) => a.steps.filter((s) => s.cls === cls).map((s) => ({ step: s, home: a.setup?.[0]?.ip })));
  const vpnAsns = new Set(CONSUMER_VPN.map(([asn]) => asn));

  it("labels every added class legitimate, and gives the returning ones verified history at home", () => {
    for (const cls of ["first-time (consumer VPN)", "first-time (iCloud Private Relay)", "first-time, travelling", "returning (history), consumer VPN", "returning (history), travelling"]) {
      const found = steps(cls);
      expect(found.length, cls).toBeGreaterThan(0);
      expect(found.every(({ step }) => step.group === "legit")).toBe(true);
      if (cls.startsWith("returning")) expect(found.every(({ home }) => home !== undefined && !vpnAsns.has(where.get(home)?.asn ?? 0))).toBe(true);
    }
  });

  it("sends VPN users through consumer-VPN networks and Private Relay users through relay networks", () => {
    expect(steps("first-time (consumer VPN)").every(({ step }) => vpnAsns.has(where.get(step.ip ?? "")?.asn ?? 0))).toBe(true);
    const relays = new Set(PRIVATE_RELAY.map(([asn]) => asn));
    const relayed = steps("first-time (iCloud Private Relay)");
    expect(relayed.every(({ step }) => relays.has(where.get(step.ip ?? "")?.asn ?? 0) && / Safari\//.test(String((step.headers as Record<string, string>)["user-agent"])))).toBe(true);
  });

  it("puts travellers off a VPN in another country than the one their history is from", () => {
    const away = steps("returning (history), travelling").filter(({ step }) => !step.tags?.includes("VPN"));
    expect(away.length).toBeGreaterThan(0);
    for (const { step, home } of away) expect(where.get(step.ip ?? "")?.country).not.toBe(where.get(home ?? "")?.country);

  });
});

describe("eval account roster (the demo origin's accounts)", () => {
  // Addresses only: every network exists and every draw is one documentation address.
  const net = { draw: () => "192.0.2.1", has: () => true };
  type Step = { kind: string; email: string; cls: string };
  const p = plan(1, net) as unknown as { actors: Array<{ setup?: Step[]; steps: Step[] }> };
  const steps = p.actors.flatMap((a) => [...(a.setup ?? []), ...a.steps]).filter((s) => s.kind === "reset");
  const accounts = new Set(accountsOf(p));

  it("holds every user, victim, flooded owner and SMS-pumping account", () => {
    const mustExist = steps.filter((s) => !["scripted enumeration", "browser-faking bots", "residential botnet"].includes(s.cls));
    expect(mustExist.length).toBeGreaterThan(300);
    expect(mustExist.filter((s) => !accounts.has(s.email))).toEqual([]);
  });

  it("leaves out the guessed targets of enumeration, bots and the botnet, but not the real accounts they pick", () => {
    const guessing = steps.filter((s) => ["scripted enumeration", "browser-faking bots", "residential botnet"].includes(s.cls));
    const real = guessing.filter((s) => accounts.has(s.email));
    // scenarios.mjs picks a real account 30 % of the time; the rest are made up.
    expect(real.length / guessing.length).toBeGreaterThan(0.2);
    expect(real.length / guessing.length).toBeLessThan(0.4);
    expect(real.every((s) => steps.some((o) => o.email === s.email && o.cls.startsWith("history")))).toBe(true);
  });
});

describe("eval history set-up", () => {
  // The gateway forwards after its answer, so a set-up answered 202 can reach the origin
  // later than the last answer. Reading the origin once right after the answers (as the
  // harness did) left such accounts without history: takeover victims scored as new accounts.
  it("waits for every 202 set-up's forward before reporting its outcomes, and names those that never came", async () => {
    let clock = 0;
    let polls = 0;
    // Forwards arrive by poll: a and b at once, late only at the third read; `denied` never
    // (a silent deny answers 202 too); `challenged` was answered 403 and is not waited for.
    const arrivals: Record<string, number> = { a: 0, b: 0, late: 3 };
    const reported: string[] = [];
    const result = await teachSetups(
      [
        { id: "a", status: 202 },
        { id: "late", status: 202 },
        { id: "denied", status: 202 },
        { id: "challenged", status: 403 },
        { id: "b", status: 202 },
      ],
      [["verified", "completed"], ["verified", "completed"], ["verified"], ["verified"], ["verified"]],
      {
        received: async () => {
          const read = polls++;
          return new Map(Object.entries(arrivals).filter(([, at]) => at <= read).map(([id]) => [id, { id }]));
        },
        report: async (d: { id: string }, event) => {
          reported.push(`${d.id}:${event}`);
          return true;
        },
        sleep: async (ms) => {
          clock += ms;
        },
        now: () => clock,
        waitMs: 5_000,
        pollMs: 250,
      },
    );
    expect([...result.taught].sort()).toEqual(["a", "b", "late"]);
    expect(reported.filter((r) => r.startsWith("late:"))).toEqual(["late:verified", "late:completed"]);
    expect(result.missing).toEqual(["denied"]);
    // It gave up on the one that never came at the deadline, not before.
    expect(clock).toBeGreaterThanOrEqual(5_000);
  });

  it("does not count a set-up as taught when an outcome report was refused", async () => {
    const result = await teachSetups([{ id: "a", status: 202 }], [["verified", "completed"]], {
      received: async () => new Map([["a", {}]]),
      report: async (_d, event) => event === "verified",
      sleep: async () => {},
      now: () => 0,
      waitMs: 0,
    });
    expect(result.taught.size).toBe(0);
    expect(result.missing).toEqual([]);
  });
});

describe("eval origin reports: who finishes a reset", () => {
  const net = { draw: () => "192.0.2.1", has: () => true };
  type Step = { kind: string; email: string; cls: string; group: string };
  const p = plan(1, net) as unknown as { actors: Array<{ steps: Step[] }> };

  it("only legitimate users and owners finish, at most their last reset, about FINISH_SHARE of them, the same on every run", () => {
    const done = finishers(p, 1);
    expect([...done].every((s) => s.group === "legit" || s.group === "owner")).toBe(true);
    for (const a of p.actors) {
      const mine = a.steps.filter((s) => done.has(s));
      expect(mine.length).toBeLessThanOrEqual(1);
      if (mine.length === 1) expect(mine[0]).toBe(a.steps.filter((s) => s.group === "legit" || s.group === "owner").at(-1));
    }
    const asking = p.actors.filter((a) => a.steps.some((s) => s.group === "legit" || s.group === "owner")).length;
    expect(done.size / asking).toBeGreaterThan(FINISH_SHARE - 0.12);
    expect(done.size / asking).toBeLessThan(FINISH_SHARE + 0.12);
    expect([...finishers(p, 1)].map((s) => s.email)).toEqual([...done].map((s) => s.email));
    expect([...finishers(p, 2)].map((s) => s.email)).not.toEqual([...done].map((s) => s.email));
  });
});
