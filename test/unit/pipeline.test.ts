// The pipeline with a small in-memory store: one store batch per request (budget hits
// included), facts recorded for replay, and the shadow candidate decided on the same
// facts without touching the live decision.
import { describe, expect, it } from "vitest";
import type { RequestContext } from "../../src/context/index.ts";
import { decide } from "../../src/reset/decide.ts";
import type { CompiledRuleset } from "../../src/scoring/ruleset/compile.ts";
import {
  type ObserveRequest,
  type ObserveResult,
  type RosterStatus,
  type PenaltyState,
  type Store,
  StoreError,
  type TallyRow,
} from "../../src/store/port.ts";
import { LocalCounters } from "../../src/store/fallback.ts";
import { createAuditor } from "../../src/audit/auditor.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import type { AuditEvent, DecisionData } from "../../src/audit/events.ts";
import { emptyReport, replayLine } from "../../src/cli/replay.ts";
import { decisionExport } from "../../src/audit/hub/views.ts";
import type { ExperimentArm } from "../../src/shared/decision.ts";
import { recordRequest } from "../../src/reset/record.ts";
import type { ForwardOutcome } from "../../src/reset/forward-job.ts";
import { logSink } from "../../src/audit/sinks/log.ts";
import { findGaps } from "../../src/audit/sequence.ts";
import { outcomeFor } from "../../src/scoring/verdict.ts";
import { compileShipped, compileYaml } from "./support/rulesets.ts";

/** Counts every hit and distinct member forever: enough to see what the pipeline asks for. */
class MemoryStore implements Store {
  readonly name = "memory";
  readonly calls: ObserveRequest[] = [];
  private readonly counts = new Map<string, number>();
  private readonly sets = new Map<string, Set<string>>();
  constructor(private readonly failing = false) {}

  async observe(request: ObserveRequest): Promise<ObserveResult> {
    this.calls.push(request);
    if (this.failing) throw new StoreError("STORE_TIMEOUT", "slow");
    const counts = request.hits.map((h) => {
      const n = (this.counts.get(h.key) ?? 0) + 1;
      this.counts.set(h.key, n);
      return n;
    });
    const distinct = request.distinct.map((d) => {
      const set = this.sets.get(d.key) ?? new Set<string>();
      set.add(d.member);
      this.sets.set(d.key, set);
      return set.size;
    });
    return { counts, distinct, history: null, limits: [], penalties: [], blocked: null };
  }

  cachedBlock(): null {
    return null;
  }

  async recordHistory(): Promise<void> {}

  // The decision path never calls these; they are here to satisfy the port.
  penalize(): Promise<PenaltyState> {
    throw new Error("not on the decision path");
  }
  liftPenalty(): Promise<number> {
    throw new Error("not on the decision path");
  }
  tally(): Promise<boolean> {
    throw new Error("not on the decision path");
  }
  readTallies(): Promise<readonly TallyRow[]> {
    throw new Error("not on the decision path");
  }
  updateRoster(): Promise<RosterStatus> {
    throw new Error("not on the decision path");
  }
}

function context(country: string, ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"): RequestContext {
  return {
    now: 1_800_000_000_000,
    route: { path: "/password/reset", method: "POST", identifier: "email", respond: "uniform" },
    accountKey: "acctKEYacctKEYacctKEY0",
    ip: { address: "192.0.2.10", version: 4, subnet: "192.0.2.0/24", net56: null, net48: null },
    keys: { account: "acctKEYacctKEYacctKEY0", ip: "ipKEY", subnet: "subnetKEY", net56: null, net48: null, device: "deviceKEY", asn: "asn:7922" },
    userAgent: ua,
    acceptLanguage: "en",
    geo: { country, region: "", asn: 7922, asOrg: "Comcast", lat: null, lon: null, source: "local" },
    device: {
      cookie: { state: "absent", id: "idIDidIDidIDidIDidID00", setCookie: "" },
      cookieKey: "cookieKEYcookieKEYcook",
      hints: { present: false, malformed: false, brands: [], mobile: null, platform: null },
      keyStrength: "network-fingerprint",
    },
    headers: { userAgentChars: ua.length, acceptLanguage: "en", accept: true, secFetchMode: true },
    body: new Uint8Array(),
    fields: { type: "json", value: {} },
  };
}

let ids = 0;
const deps = (ruleset: CompiledRuleset, store: Store, candidate: CompiledRuleset | null = null) => ({ ruleset, candidate, store, newId: () => `id-${++ids}` });

describe("decide", () => {
  const live = compileShipped();

  it("counts the SMS budget in the same store batch, keyed by channel and country", async () => {
    const store = new MemoryStore();
    const { facts } = await decide(context("US"), deps(live, store));
    expect(store.calls).toHaveLength(1);
    const keys = store.calls[0]?.hits.map((h) => h.key) ?? [];
    expect(keys).toContain("budget:sms_otp:US");
    expect(facts.budget).toEqual({ sms_otp: 1 });
  });

  it.each([["NG"], [""]])("does not count the budget for a country SMS is not offered in (%j)", async (country) => {
    const store = new MemoryStore();
    const { facts } = await decide(context(country), deps(live, store));
    expect(store.calls[0]?.hits.some((h) => h.key.startsWith("budget:"))).toBe(false);
    expect(facts.budget).toEqual({});
  });

  it("with local counters, a store failure still counts the ladders: the IP ladder's 429 bites", async () => {
    const fallback = new LocalCounters();
    const d = { ...deps(live, new MemoryStore(true)), fallback };
    const outcomes = [];
    for (let i = 0; i < 22; i++) outcomes.push((await decide(context("US"), d)).decision);
    // No CAPTCHA was solved: challenged (fail mode) until the `ip` ladder's 20 per minute, then 429.
    expect(outcomes.slice(0, 20).every((o) => o.verdict === "challenge")).toBe(true);
    const refused = outcomes[20];
    expect(refused?.verdict).toBe("deny");
    expect(refused?.retryAfter).toBeGreaterThan(0);
    expect(refused?.reasons.map((r) => `${r.code} ${r.rule}`)).toContain("RATE_LIMIT_EXCEEDED rate_limits.ip");
    expect(refused?.errors).toEqual([{ dependency: "store", code: "STORE_TIMEOUT", failMode: "challenge", fallback: "local-counters" }]);
    // Budgets stay unknown: only the ladders and the token record count locally.
    expect((await decide(context("US"), d)).facts.budget).toEqual({});
  });

  it("asks the roster in the same store call, on the counting form of the address", async () => {
    const store = new MemoryStore();
    const ctx = context("US");
    const { facts } = await decide(ctx, deps(live, store));
    expect(store.calls).toHaveLength(1);
    expect(store.calls[0]?.rosterKey).toBe(ctx.keys.account);
    // This store answers no roster: nothing is known, nothing denied for it.
    expect(facts.account?.roster).toBe("off");
  });

  it("a store that does not answer makes the roster unanswered: the store fail mode decides, not the roster", async () => {
    const { decision, facts } = await decide(context("US"), deps(live, new MemoryStore(true)));
    expect(facts.account?.roster).toBe("unanswered");
    expect(decision.verdict).toBe("challenge");
    expect(decision.reasons.map((r) => r.code)).not.toContain("ACCOUNT_NOT_ON_ROSTER");
  });

  it("turns SMS off for a country once its budget is spent, and back to email", async () => {
    const tight = compileYaml({}, (p) => p.replace("default: 50", "default: 2").replace("channels: [email_link, email_otp]", "channels: [sms_otp, email_otp]"));
    const store = new MemoryStore();
    const channels: string[][] = [];
    for (let i = 0; i < 3; i++) channels.push([...(await decide(context("IE"), deps(tight, store))).decision.channels]);
    expect(channels).toEqual([["sms_otp", "email_otp"], ["sms_otp", "email_otp"], ["email_otp"]]);
  });

  it("a store failure applies the store fail mode and leaves SMS out (budget unknown)", async () => {
    const tight = compileYaml({}, (p) => p.replace("channels: [email_link, email_otp]", "channels: [sms_otp, email_otp]"));
    const { decision, facts } = await decide(context("US"), deps(tight, new MemoryStore(true)));
    expect(decision.verdict).toBe("challenge");
    expect(decision.channels).toEqual(["email_otp"]);
    expect(decision.errors).toEqual([{ dependency: "store", code: "STORE_TIMEOUT", failMode: "challenge" }]);
    expect(facts.budget).toEqual({});
  });

  describe("shadow candidate", () => {
    const candidate = compileYaml({ "rules/c.yaml": "rules:\n  - id: headless-hard\n    when: device.headless\n    weight: 100\n    reason: UA_HEADLESS\n" });
    const headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36";

    it("decides on the same facts with no second store call, and never changes the live decision", async () => {
      const withShadow = new MemoryStore();
      const without = new MemoryStore();
      const a = await decide(context("US", headless), deps(live, withShadow, candidate));
      const b = await decide(context("US", headless), deps(live, without));
      expect(withShadow.calls).toHaveLength(1);
      expect(withShadow.calls).toEqual(without.calls);
      expect({ ...a.decision, id: "" }).toEqual({ ...b.decision, id: "" });
      expect(a.decision.verdict).toBe("allow");
      expect(a.candidate).toMatchObject({ rules: candidate.version, verdict: "deny", tier: "critical", score: 100, changed: true });
      expect(b.candidate).toBeNull();
    });

    it("marks an unchanged outcome as unchanged", async () => {
      const r = await decide(context("US"), deps(live, new MemoryStore(), candidate));
      expect(r.candidate).toMatchObject({ verdict: "allow", tier: "low", changed: false });
    });
  });

  it("records facts that carry no raw identifiers", async () => {
    const { facts } = await decide(context("US"), deps(live, new MemoryStore()));
    const text = JSON.stringify(facts);
    for (const raw of ["192.0.2.10", "192.0.2.0", "acctKEY", "deviceKEY"]) expect(text).not.toContain(raw);
    expect(facts.velocity).toMatchObject({ account_1h: 1, ip_10m: 1 });
  });

  describe("the record of a decision (log line and decision event)", () => {
    const headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36";

    /**
     * Decide a request, then run the record stage on it; the decision log line, the stamped
     * events and the Workers log as written (the decision line and the real log sink's lines).
     */
    async function recorded(ctx: RequestContext, experiment?: ExperimentArm, forward?: ForwardOutcome) {
      const store = new MemoryStore();
      const made = await decide(ctx, deps(live, store));
      const decided = experiment === undefined ? made : { ...made, decision: { ...made.decision, experiment } };
      const lines: DecisionLogLine[] = [];
      const events: AuditEvent[] = [];
      const workersLog: string[] = [];
      const sinks = [{ name: "capture", write: (e: readonly AuditEvent[]) => void events.push(...e) }, logSink((l) => workersLog.push(l))];
      const audit = createAuditor({ source: "test", rules: live.version, sinks, now: () => ctx.now, newId: () => `ev-${++ids}` });
      const log = (line: DecisionLogLine) => {
        lines.push(line);
        workersLog.push(JSON.stringify(line));
      };
      await recordRequest({ audit, log }, {
        requestId: "req-1",
        method: "POST",
        ctx,
        decision: decided.decision,
        shadowReasons: decided.shadowReasons,
        facts: decided.facts,
        candidate: decided.candidate,
        storeName: store.name,
        storeMs: 1,
        result: { response: new Response(null, { status: 202 }), action: "forwarded", origin: null, job: null },
        originUrl: new URL("https://origin.example"),
        ms: 1,
        forward: forward ?? null,
      });
      return { decided, line: lines[0] as DecisionLogLine, event: events.find((e) => e.type === "decision"), events, workersLog, audit };
    }

    /** Every (source, seq) a log-based pipeline finds in Workers log lines. */
    function loggedSequence(workersLog: readonly string[]): { source: string; seq: number }[] {
      return workersLog.flatMap((text) => {
        const line = JSON.parse(text) as { type: string; event: { source: string; seq: number }; forward?: { seq: number } };
        const own = { source: line.event.source, seq: line.event.seq };
        return line.type === "riskgate.decision" && line.forward !== undefined ? [own, { source: own.source, seq: line.forward.seq }] : [own];
      });
    }

    const delivered = (ms: number): ForwardOutcome => ({ origin: { ok: true, response: new Response(null, { status: 200 }), ms }, attempts: 1, final: true });

    it("an allowed reset is one log line, carrying its decision and forward events; every sequence number is in the log", async () => {
      const { line, events, workersLog } = await recorded(context("US"), undefined, delivered(12));
      expect(events.map((e) => [e.seq, e.type])).toEqual([[1, "decision"], [2, "forward"]]);
      const forward = events[1];
      if (forward?.type !== "forward") throw new Error("no forward event");
      // One line: the decision log line, which names both events.
      expect(workersLog).toHaveLength(1);
      expect(JSON.parse(workersLog[0] ?? "")).toEqual(JSON.parse(JSON.stringify(line)));
      expect(line.event).toEqual({ id: events[0]?.id, source: "test", seq: 1 });
      expect(line.forward).toEqual({ id: forward.id, seq: 2, data: forward.data });
      expect(line).toMatchObject({ origin_status: 200, origin_ms: 12, forward: { data: { ok: true, status: 200, ms: 12, attempts: 1, lost: false, respond: "uniform" } } });
      // Gap detection over the log alone sees both numbers.
      expect(loggedSequence(workersLog)).toEqual(events.map((e) => ({ source: "test", seq: e.seq })));
      expect(findGaps(loggedSequence(workersLog))).toEqual([]);
      // `decisions export` rebuilds the same line from the two events.
      const decision = events[0];
      if (decision?.type !== "decision") throw new Error("no decision event");
      expect(decisionExport(decision, [forward]).line).toEqual({ ...line, rate_limits: [], captcha: null });
    });

    it("a forward the queue's consumer reports later has a line of its own, and no number is missing", async () => {
      const { line, events, workersLog, audit } = await recorded(context("US"), undefined, { ...delivered(5), final: false });
      expect(events.map((e) => e.type)).toEqual(["decision"]);
      expect(line.forward).toBeUndefined();
      // The consumer's event, emitted on its own (src/reset/deliver.ts).
      const forward = { type: "forward", request_id: "req-1", decision_id: line.id, data: { origin: "https://origin.example", ok: true, status: 200, error: null, ms: 5, respond: "uniform", attempts: 2, lost: false } } as const;
      await audit.emit(forward);
      expect(workersLog.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(["riskgate.decision", "riskgate.forward"]);
      expect(loggedSequence(workersLog)).toEqual([{ source: "test", seq: 1 }, { source: "test", seq: 2 }]);
      // A forward batched with another decision is not that decision's to carry.
      const other: string[] = [];
      const [d, f] = audit.stamp({ type: "decision", request_id: "r", decision_id: "other", data: events[0]?.data as DecisionData }, forward);
      if (d === undefined || f === undefined) throw new Error("not stamped");
      logSink((l) => other.push(l)).write([d, f]);
      expect(other.map((l) => (JSON.parse(l) as { event: { seq: number } }).event.seq)).toEqual([f.seq]);
    });

    it.each([["an ordinary browser", context("US")], ["a headless browser", context("US", headless)], ["a new country", context("JP")]])(
      "carries only the non-zero facts, and replay decides %s as recorded",
      async (_name, ctx) => {
        const { decided, line, event } = await recorded(ctx);
        const zeros = Object.entries(line.facts).flatMap(([section, fields]) =>
          Object.entries(fields)
            .filter(([, v]) => v === 0 || v === "" || v === false || (Array.isArray(v) && v.length === 0))
            .map(([name]) => `${section}.${name}`),
        );
        expect(zeros).toEqual([]);
        // The full facts have zeros (the log line used to carry all of them).
        expect(JSON.stringify(line.facts).length).toBeLessThan(JSON.stringify(decided.facts).length);
        expect((event?.data as DecisionData | undefined)?.facts).toEqual(line.facts);
        // The rules read a missing fact as zero: the same outcome from the line as from the request.
        const fromLine = outcomeFor(live, { facts: line.facts, accountKey: line.account, failures: [] });
        const fromRequest = outcomeFor(live, { facts: decided.facts, accountKey: ctx.accountKey, failures: [] });
        expect(fromLine).toEqual(fromRequest);
        const report = emptyReport(live, live);
        replayLine(report, live, live, JSON.stringify(line), 0);
        expect(report).toMatchObject({ decisions: 1, noFacts: 0, malformed: 0, recordedDiffers: 0 });
      },
    );

    it("names the account as counted (the key an account block matches) and the experiment arm, on the line, the event and the export", async () => {
      const base = context("US");
      // An address whose accents fold: the counted (velocity) form hashes apart from the exact form.
      const ctx: RequestContext = { ...base, keys: { ...base.keys, account: "countedKEYcountedKEY00" } };
      const arm = { id: "medium-email-vs-sms", arm: "sms" };
      const { line, event } = await recorded(ctx, arm);
      expect(line).toMatchObject({ account: ctx.accountKey, account_counted: "countedKEYcountedKEY00", experiment: arm });
      expect(event?.data).toMatchObject({ account: ctx.accountKey, account_counted: "countedKEYcountedKEY00", experiment: arm });
      if (event?.type !== "decision") throw new Error("no decision event");
      // `decisions export` rebuilds the line from the event alone (no outcome reported yet).
      const exported = decisionExport(event, []).line;
      expect(exported).toMatchObject({ account_counted: "countedKEYcountedKEY00", experiment: arm });
      // Replay reads the line as before.
      const report = emptyReport(live, live);
      replayLine(report, live, live, JSON.stringify(exported), 0);
      expect(report).toMatchObject({ decisions: 1, noFacts: 0, malformed: 0, recordedDiffers: 0 });
    });
  });
});

