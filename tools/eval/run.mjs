// npm run eval: a labelled evaluation of riskgate's detection, over HTTP only.
//
// Starts npm start's stack (wrangler dev with the embedded Durable Object store and the
// shipped rules, the demo origin, the Turnstile stand-in), plays labelled traffic
// (tools/eval/scenarios.mjs) through it and prints, per class and overall, the share of
// requests forwarded, challenged (403), rate-limited (429) and silently denied, the tier
// and channel of what was forwarded, and what happened to a flooded account's owner.
// The last line is one JSON object (attack_forwarded, legit_friction, legit_blocked,
// owner_after_flood, ...). Method and baseline: EVALUATION.md.
//
//   npm run eval                          # tune and holdout seeds, side by side on one gateway
//   npm run eval -- --seeds tune          # only the seeds rules may be tuned on
//   npm run eval -- --seeds holdout       # only the held-out seeds
//   npm run eval -- --seed 7              # one seed
//   options: --scale X (traffic size, default 1)  --concurrency N (in-flight requests, 6)
//            --reasons (print the reason codes behind each class's outcomes)  --log FILE (decision log)
//            --no-roster (do not publish the origin's account roster: the numbers before #16's roster)
//            --no-outcomes (the origin reports no sends or completions of scored resets: the numbers before 2026-12-02)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publishAccounts, signOutcome, startDemoOrigin } from "../demo-origin.mjs";
import { freePort, startGateway } from "../gateway.mjs";
import { startTurnstileStandin } from "../turnstile-standin/server.mjs";
import { accountsOf, aggregate, classify, finishers, formatTable, reasonCounts, teachSetups } from "./core.mjs";
import { drawer, has, loadNetworks } from "./networks.mjs";
import { networkNeeds } from "./population.mjs";
import { plan, SEED_SETS } from "./scenarios.mjs";

const TIMEOUT_MS = 15_000;
/** How long the set-up waits for its forwards to reach the origin (they run after the answer). */
const SETUP_FORWARD_WAIT_MS = 30_000;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

function options(argv) {
  const arg = (name) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sets = [];
  if (arg("seed") !== undefined) sets.push({ name: `seed ${arg("seed")}`, seeds: [Number(arg("seed"))] });
  const which = arg("seeds");
  if (which === "tune" || which === "holdout") sets.push({ name: which, seeds: SEED_SETS[which] });
  else if (which !== undefined) sets.push({ name: "custom", seeds: which.split(",").map(Number) });
  if (sets.length === 0) sets.push({ name: "tune", seeds: SEED_SETS.tune }, { name: "holdout", seeds: SEED_SETS.holdout });
  for (const s of sets) if (s.seeds.some((n) => !Number.isInteger(n) || n < 0)) throw new Error("seeds are whole numbers");
  return {
    sets,
    scale: Number(arg("scale") ?? 1),
    concurrency: Number(arg("concurrency") ?? 6),
    reasons: argv.includes("--reasons"),
    log: arg("log"),
    roster: !argv.includes("--no-roster"),
    outcomes: !argv.includes("--no-outcomes"),
  };
}


/** npm start's stack on free ports, with its own fresh Durable Object store. */
async function startStack() {
  const port = await freePort();
  const gateway = `http://127.0.0.1:${port}`;
  const demo = await startDemoOrigin({ port: 0, jwksUrl: `${gateway}/.well-known/jwks.json`, quiet: true });
  const standin = await startTurnstileStandin({ port: 0 });
  const persist = mkdtempSync(join(tmpdir(), "riskgate-eval-"));
  const lines = [];
  let partial = "";
  const onOutput = (text) => {
    partial += text;
    let i = partial.indexOf("\n");
    while (i >= 0) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      if (line.includes('"riskgate.decision"')) {
        try {
          lines.push(JSON.parse(line.slice(line.indexOf("{"))));
        } catch {
          // Not a whole JSON line.
        }
      }
      i = partial.indexOf("\n");
    }
  };
  const vars = { RISKGATE_ENV: "development", ORIGIN_URL: demo.url, STORE: "durable-object", SITEVERIFY_URL: standin.siteverifyUrl, CAPTCHA_SCRIPT_URL: standin.scriptUrl };
  let running;
  try {
    running = await startGateway({ port, vars, persistTo: persist, onOutput, readyTimeoutMs: 180_000 });
  } catch (err) {
    await demo.close();
    await standin.close();
    throw err;
  }
  return {
    gateway, demo, lines,
    stop: async () => {
      await running.stop();
      await demo.close();
      await standin.close();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}

/** At most `limit` requests in flight. */
function limiter(limit) {
  let active = 0;
  const waiting = [];
  return async (work) => {
    if (active >= limit) await new Promise((resolve) => waiting.push(resolve));
    active++;
    try {
      return await work();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One seed's plan on the stack, in two phases: `setup()` makes the history "weeks ago"
 * (every seed's set-ups run before any seed's scored traffic, so no set-up meets a
 * campaign of the scored hour), then `play()` plays the hour and resolves to the
 * labelled results.
 */
async function openSeed(stack, seed, net, o) {
  const p = plan(seed, net, { scale: o.scale });
  const finished = o.outcomes ? finishers(p, seed) : new Set();
  const limit = limiter(o.concurrency);
  const jars = new Map();
  const results = [];
  const stepOf = new Map(); // eval id -> step, for the origin's reports
  let n = 0;
  const send = (step) =>
    limit(async () => {
      const id = `eval-${seed}-${++n}`;
      stepOf.set(id, step);
      const headers = { ...step.headers, "cf-connecting-ip": step.ip, "x-eval-id": id };
      const cookie = step.jar ? jars.get(step.jar) : undefined;
      if (cookie) headers.cookie = cookie;
      const body = step.form ? `email=${encodeURIComponent(step.email)}` : JSON.stringify({ email: step.email });
      const result = { id, seed, cls: step.cls, group: step.group, role: step.role, tags: step.tags ?? [], email: step.email, status: 0, decision: null };
      try {
        const res = await fetch(`${stack.gateway}/password/reset`, { method: "POST", headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
        const text = await res.text();
        result.status = res.status;
        const set = /__Host-riskgate-device=[^;]+/.exec(res.headers.get("set-cookie") ?? "")?.[0];
        if (set && step.jar) jars.set(step.jar, set);
        if (res.status === 403 || res.status === 429) result.decision = UUID.exec(text)?.[0] ?? null;
      } catch (err) {
        result.error = String(err?.message ?? err);
      }
      results.push(result);
      return result;
    });
  const originSince = (await (await fetch(`${stack.demo.url}/__demo/received?since=0`)).json()).total;
  const logSince = stack.lines.length;

  // Setup: history made "weeks ago" (a reset on the usual device, then verified and completed).
  const setup = async () => {
    const setups = p.actors.filter((a) => a.setup);
    // Their forwards reach the origin after the answers: teachSetups waits for each one.
    const setupResults = await Promise.all(setups.map((a) => send(a.setup[0])));
    const { taught, missing } = await teachSetups(setupResults, setups.map((a) => a.setup[1].events), {
      received: () => originReceived(stack, originSince),
      report: (d, event) => report(stack, d, event),
      sleep,
      now: Date.now,
      waitMs: SETUP_FORWARD_WAIT_MS,
    });
    for (const r of setupResults) r.taught = taught.has(r.id);
    if (missing.length > 0) stack.untaughtSetups = (stack.untaughtSetups ?? 0) + missing.length;
  };

  const play = async () => {

    // The origin's side of the hour (unless --no-outcomes): it reports every reset it sends
    // (`sent`, on the decision's channel), and FINISH_SHARE of the people who asked finish
    // their last one a few seconds later (`completed`); nobody finishes an
    // attack's resets. These feed the completion rates (docs/outcomes.md) as a real origin's
    // reports would; set-ups are taught above.
    const reported = new Set();
    const reports = [];
    const reportLimit = limiter(3); // the origin's reporter: a few reports in flight, beside the traffic
    const reportForwards = async () => {
      for (const [id, d] of await originReceived(stack, originSince)) {
        const step = stepOf.get(id);
        if (step === undefined || step.group === "setup" || reported.has(id)) continue;
        reported.add(id);
        reports.push(
          (async () => {
            await reportLimit(() => report(stack, d, "sent"));
            if (!finished.has(step)) return;
            await sleep(1000 + Math.floor(Math.random() * 4000));
            await reportLimit(() => report(stack, d, "completed"));
          })(),
        );
      }
    };
    let playing = true;
    const reporter = o.outcomes
      ? (async () => {
          while (playing) {
            await sleep(500);
            await reportForwards().catch(() => undefined);
          }
        })()
      : Promise.resolve();

    // The hour, compressed: every actor starts after its first step's delay; steps follow
    // one another with their own delays; at most `concurrency` requests are in flight.
    const started = Date.now();
    await Promise.all(
      p.actors.map(async (a) => {
        for (const step of a.steps) {
          if (step.delay) await sleep(step.delay);
          await send(step);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    await sleep(1500); // decision log lines are written after the response
    playing = false;
    await reporter;
    if (o.outcomes) {
      await reportForwards();
      await Promise.all(reports);
    }
    const all = await originReceived(stack, originSince);
    const logLines = stack.lines.slice(logSince);
    const byId = new Map(logLines.map((l) => [l.id, l]));
    const denies = logLines.filter((l) => l.action === "silent_deny");
    const out = [];
    for (const r of results) {
      const d = all.get(r.id);
      const outcome = r.error ? "error" : classify({ status: r.status, forwarded: d !== undefined });
      const line = d ? byId.get(d.claims.jti) : r.decision ? byId.get(r.decision) : null;
      const entry = { ...r, outcome, tier: d?.claims.tier, channel: d?.claims.channel, channels: d?.claims.channels, reasons: line?.reasons?.map((x) => x.code ?? x) ?? d?.claims.reasons ?? [], acct: d?.claims.acct ?? line?.account };
      if (line?.rate_limits?.length) entry.ladders = line.rate_limits.filter((x) => !x.waived).map((x) => `${x.name}:${x.step}`);
      out.push(entry);
    }
    // Silent denies carry no decision id to the client: pair them with the log's silent
    // denials of the same account when it is known (one per request, in order).
    const acctOf = new Map(out.filter((r) => r.acct).map((r) => [r.email, r.acct]));
    for (const r of out.filter((x) => x.outcome === "silently_denied")) {
      const acct = acctOf.get(r.email);
      const i = denies.findIndex((l) => acct === undefined || l.account === acct);
      if (i >= 0 && acct !== undefined) {
        r.reasons = denies[i].reasons.map((x) => x.code ?? x);
        denies.splice(i, 1);
      }
    }
    return { seed, results: out, seconds, requests: results.length, logLines };
  };
  return { seed, setup, play };
}

/** What the demo origin received since `since`, by our x-eval-id. */
async function originReceived(stack, since) {
  const res = await fetch(`${stack.demo.url}/__demo/received?since=${since}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = await res.json();
  const map = new Map();
  for (const r of body.received) {
    const id = r.headers?.["x-eval-id"];
    if (r.accepted && typeof id === "string") map.set(id, { token: r.headers["riskgate-decision"], claims: r.claims });
  }
  return map;
}

/** Report an outcome; retried (a loaded store may answer 503), false when it never took. */
async function report(stack, decision, event) {
  const body = await signOutcome({ event, decisionToken: decision.token, decisionId: decision.claims.jti });
  for (let attempt = 0; attempt < 4; attempt++) {
    const res = await fetch(`${stack.gateway}/v1/outcomes`, { method: "POST", headers: { "content-type": "application/jwt" }, body, signal: AbortSignal.timeout(TIMEOUT_MS) }).catch(() => null);
    await res?.body?.cancel();
    if (res?.ok) return true;
    await sleep(500 * 2 ** attempt);
  }
  stack.failedOutcomes = (stack.failedOutcomes ?? 0) + 1;
  return false;
}

function printReport(title, results, o) {
  const scored = results.filter((r) => r.group !== "setup");
  const agg = aggregate(scored);
  console.log(`\n== ${title}`);
  for (const l of formatTable(agg)) console.log(l);
  const setup = results.filter((r) => r.group === "setup");
  const setupFwd = setup.filter((r) => r.outcome === "forwarded").length;
  const setupTaught = setup.filter((r) => r.taught).length;
  console.log(`history set-up (not scored): ${setupFwd}/${setup.length} forwarded, ${setupTaught}/${setup.length} verified (history taught)`);
  const retries = scored.filter((r) => r.tags.includes("retry"));
  if (retries.length > 0) console.log(`legit retries: ${retries.length} requests, ${retries.filter((r) => r.outcome !== "forwarded").length} with friction`);
  const owners = scored.filter((r) => r.group === "owner").map((r) => `${r.role} ${r.outcome}${r.outcome === "forwarded" ? ` (${r.tier}/${r.channel})` : ""}`);
  console.log(`flooded owners: ${owners.join("; ") || "none"}`);
  const friction = scored.filter((r) => r.group === "legit" && r.outcome !== "forwarded");
  const fr = reasonCounts(friction).map(([c, n]) => `${c} ${n}`).join(", ");
  const ladders = new Map();
  for (const r of friction) for (const l of r.ladders ?? []) ladders.set(l, (ladders.get(l) ?? 0) + 1);
  console.log(`legit friction: ${friction.length} requests; reasons: ${fr || "-"}; ladders: ${[...ladders].map(([k, v]) => `${k} ${v}`).join(", ") || "-"}`);
  if (o.reasons) {
    for (const row of agg.rows) {
      const rs = scored.filter((r) => r.cls === row.cls);
      console.log(`  reasons, ${row.cls}: ${reasonCounts(rs).map(([c, n]) => `${c} ${n}`).join(", ") || "-"}`);
    }
  }
  return agg.summary;
}

const o = options(process.argv.slice(2));
const t0 = Date.now();
const needs = networkNeeds();
const data = await loadNetworks(needs);
// A fresh drawer per seed, so a seed's plan does not depend on which seeds ran before it.
const net = () => ({ draw: drawer(data), has: (asn, country) => has(data, asn, country) });
console.log(`riskgate eval: sets ${o.sets.map((s) => `${s.name} [${s.seeds.join(",")}]`).join(", ")}, scale ${o.scale}, concurrency ${o.concurrency}`);
// One fresh gateway for the run (wrangler dev takes 30-90 s to start, and two at once
// collide on its inspector port). Sets share it; EVALUATION.md says what that couples.
const stack = await startStack();
const stacks = o.sets.map(() => stack);
console.log(`gateways ready after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
if (o.roster) {
  // The demo origin knows its accounts: publish every seed's before any traffic, then
  // turn the roster on (POST /v1/accounts, docs/accounts.md).
  const accounts = o.sets.flatMap((set) => set.seeds.flatMap((seed) => accountsOf(plan(seed, net(), { scale: o.scale }))));
  const answer = await publishAccounts(stack.gateway, accounts);
  console.log(`account roster: ${accounts.length} accounts published, ${JSON.stringify(answer.roster)}`);
} else {
  console.log("account roster: not published (--no-roster)");
}
const summaries = {};
const everything = [];
const logs = [];
try {
  // Every seed's history first ("weeks ago"); then the hour: sets run side by side (most
  // of a seed's time is its compressed timeline, not CPU), seeds within a set one after
  // the other.
  const opened = await Promise.all(o.sets.map((set, i) => Promise.all(set.seeds.map((seed) => openSeed(stacks[i], seed, net(), o)))));
  await Promise.all(
    opened.map(async (seeds) => {
      for (const s of seeds) await s.setup();
    }),
  );
  const played = await Promise.all(
    opened.map(async (seeds, i) => {
      const set = o.sets[i];
      const setResults = [];
      for (const s of seeds) {
        const r = await s.play();
        console.log(`seed ${s.seed} (${set.name}): ${r.requests} requests in ${r.seconds.toFixed(0)} s`);
        setResults.push(...r.results);
        logs.push(...r.logLines);
      }
      return setResults;
    }),
  );
  for (const [i, set] of o.sets.entries()) {
    summaries[set.name] = printReport(`${set.name} seeds [${set.seeds.join(",")}]`, played[i], o);
    everything.push(...played[i]);
  }
} finally {
  await stack.stop();
}
if (o.log) writeFileSync(o.log, [...new Map(logs.map((l) => [l.id, l])).values()].map((l) => JSON.stringify(l)).join("\n") + "\n");
if (stack.failedOutcomes) console.log(`warning: ${stack.failedOutcomes} outcome reports were refused (history incomplete)`);
{
  // Errors count as blocked (a user who got no answer); say what they were.
  const errs = new Map();
  for (const r of everything.filter((x) => x.outcome === "error")) {
    const what = r.error ?? `HTTP ${r.status}`;
    errs.set(what, (errs.get(what) ?? 0) + 1);
  }
  if (errs.size > 0) console.log(`warning: requests without an answer: ${[...errs].map(([m, k]) => `${k} x ${m}`).join("; ")}`);
}
if (stack.untaughtSetups) console.log(`warning: ${stack.untaughtSetups} history set-ups never reached the origin within ${SETUP_FORWARD_WAIT_MS / 1000} s (no history taught)`);
const scored = everything.filter((r) => r.group !== "setup");
const overall = o.sets.length > 1 ? printReport("all seeds", everything, o) : summaries[o.sets[0].name];
console.log(`\n(${((Date.now() - t0) / 1000).toFixed(0)} s; ${scored.length} scored requests)`);
const final = { ...overall, seeds: o.sets.flatMap((s) => s.seeds), scale: o.scale };
if (o.sets.length > 1) for (const [name, s] of Object.entries(summaries)) final[name] = { attack_forwarded: s.attack_forwarded, attack_forwarded_low_tier: s.attack_forwarded_low_tier, legit_friction: s.legit_friction, legit_blocked: s.legit_blocked, owner_after_flood: s.owner_after_flood, owner_after_flood_new_device: s.owner_after_flood_new_device };
console.log(JSON.stringify(final));
