// Realistic reset traffic and outcomes through a running gateway, so an experiment
// report fills up live:
//
//   npm start                       # gateway on :8787, demo origin on :8788
//   node tools/traffic.mjs          # (npm run traffic) then open the printed report URL
//
// It plays account owners (tools/traffic-model.mjs): each first resets at home on their
// usual browser and completes, which teaches the gateway their device, country and
// network; then they reset again, at home (low tier) or on a new device behind a cloud
// network (medium tier, where the default experiment runs), and takeover attempts come
// from abroad. For every decision the demo origin received, it reports what the model
// says happened (sent, resent, verified, completed, abandoned, fraud reported) to
// POST /v1/outcomes, signed with the development origin key as an origin would sign it.
// Time is compressed: outcomes are reported at once, not minutes or days later.
//
// Options: --gateway URL (RISKGATE_URL, else 127.0.0.1:$PORT)  --origin URL (127.0.0.1:$DEMO_ORIGIN_PORT)  --users N (200)  --seed N  --concurrency N (8)
//          --experiment ID (medium-email-vs-sms)  --quiet
// The admin token for the report comes from RISKGATE_ADMIN_TOKEN (default: the
// development token npm start uses).
import { signOutcome } from "./demo-origin.mjs";
import { outcomes, plan, population, rng } from "./traffic-model.mjs";

const DEV_ADMIN_TOKEN = "riskgate-dev-admin-token";
const TIMEOUT_MS = 10_000;

function options(argv) {
  const arg = (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const number = (name, fallback, max) => {
    const n = Number(arg(name, String(fallback)));
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}`);
    return n;
  };
  return {
    // Defaults follow npm start's ports: RISKGATE_URL or PORT, and DEMO_ORIGIN_PORT.
    gateway: arg("gateway", process.env.RISKGATE_URL || `http://127.0.0.1:${process.env.PORT || "8787"}`).replace(/\/+$/, ""),
    origin: arg("origin", `http://127.0.0.1:${process.env.DEMO_ORIGIN_PORT || "8788"}`).replace(/\/+$/, ""),
    users: number("users", 200, 20_000),
    seed: number("seed", Math.floor(Date.now() / 1000) % 1_000_000, 2 ** 31),
    concurrency: number("concurrency", 8, 64),
    experiment: arg("experiment", "medium-email-vs-sms"),
    token: process.env.RISKGATE_ADMIN_TOKEN ?? DEV_ADMIN_TOKEN,
    quiet: argv.includes("--quiet"),
  };
}

/** Run `work` over `items` with at most `limit` in flight. */
async function pool(items, limit, work) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  });
  await Promise.all(lanes);
}

/** One reset through the gateway; resolves to the device cookie it set, if any. */
async function sendReset(o, r, cookie, id) {
  const headers = {
    "content-type": "application/json",
    accept: "application/json",
    "user-agent": r.device.userAgent,
    "accept-language": r.device.acceptLanguage,
    ...r.device.hints,
    "sec-fetch-mode": "cors",
    "sec-fetch-site": "same-origin",
    "sec-fetch-dest": "empty",
    // Locally (wrangler dev) the client IP header is taken as sent; on Cloudflare the platform sets it.
    "cf-connecting-ip": r.ip,
    "x-traffic-id": id,
  };
  if (cookie) headers.cookie = cookie;
  const res = await fetch(`${o.gateway}/password/reset`, { method: "POST", headers, body: JSON.stringify({ email: r.user.email }), signal: AbortSignal.timeout(TIMEOUT_MS) });
  await res.body?.cancel();
  return { status: res.status, cookie: /__Host-riskgate-device=[^;]+/.exec(res.headers.get("set-cookie") ?? "")?.[0] };
}

/** What the demo origin received since `since`, keyed by our x-traffic-id. */
async function received(o, since, into) {
  const res = await fetch(`${o.origin}/__demo/received?since=${since}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`the demo origin at ${o.origin} answered ${res.status}; is npm start running?`);
  const body = await res.json();
  for (const r of body.received) {
    const id = r.headers?.["x-traffic-id"];
    if (r.accepted && typeof id === "string") into.set(id, { token: r.headers["riskgate-decision"], claims: r.claims });
  }
  return body.total;
}

async function report(o, decision, event, extra = {}) {
  const body = await signOutcome({ event, decisionToken: decision.token, decisionId: decision.claims.jti, extra });
  const res = await fetch(`${o.gateway}/v1/outcomes`, { method: "POST", headers: { "content-type": "application/jwt" }, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const answer = await res.json();
  if (!res.ok) throw new Error(`outcome refused: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Play the resets, then report their outcomes; returns counts for the summary. */
async function play(o, state, resets, label) {
  const ids = new Map();
  await pool(resets, o.concurrency, async (r) => {
    const id = crypto.randomUUID();
    ids.set(id, r);
    const { status, cookie } = await sendReset(o, r, r.newDevice ? undefined : state.cookies.get(r.user), id);
    if (cookie && !r.newDevice) state.cookies.set(r.user, cookie);
    state.count(`${label} ${status}`);
  });
  const decisions = new Map();
  state.since = await received(o, state.since, decisions);
  const work = [];
  for (const [id, r] of ids) {
    const d = decisions.get(id);
    if (d === undefined) continue;
    const arm = d.claims.experiment?.arm;
    state.count(`${label} ${d.claims.tier}${arm ? ` -> ${arm} (${d.claims.channel})` : ""}`);
    // A warm-up completes (that teaches the gateway the owner's device), unless the
    // experiment enrolled it: then it plays out like any other enrolled reset.
    const modelled = outcomes(state.random, { channel: d.claims.channel, country: r.user.home, attacker: r.kind === "attack" });
    const events = label === "warm-up" && arm === undefined ? [{ event: "completed" }] : modelled;
    work.push({ d, events, country: r.user.home });
  }
  await pool(work, o.concurrency, async ({ d, events, country }) => {
    for (const e of events) {
      const answer = await report(o, d, e.event, e.event === "sent" ? { country } : {});
      state.reports++;
      if (answer.experiment?.counted) state.counted++;
    }
  });
}

async function showReport(o) {
  const url = `${o.gateway}/__riskgate/experiments/${encodeURIComponent(o.experiment)}`;
  const res = await fetch(`${url}?format=json`, { headers: { authorization: `Bearer ${o.token}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) {
    console.log(`\nthe report answered ${res.status} (set RISKGATE_ADMIN_TOKEN to the gateway's admin token)`);
    return;
  }
  const r = await res.json();
  console.log(`\nexperiment ${r.id} (${r.status}):`);
  for (const a of r.arms) {
    const cpc = a.costPerCompletion.value === null ? "n/a" : a.costPerCompletion.value.toPrecision(3);
    console.log(`  ${a.arm.padEnd(8)} exposures ${String(a.exposures).padStart(5)}  completed ${String(a.completions).padStart(5)}  fraud ${String(a.fraudReports).padStart(3)}  ${r.currency} per completed reset ${cpc}`);
  }
  console.log(`  ${r.verdict.headline}`);
  console.log(`\nthe full report:
  page      ${url}   (sign in at ${o.gateway}/__riskgate/ with the admin token)
  terminal  RISKGATE_ADMIN_TOKEN=${o.token === DEV_ADMIN_TOKEN ? DEV_ADMIN_TOKEN : "<token>"} npx riskgate experiments report ${o.experiment} --url ${o.gateway}`);
}

/** Play `users` owners through the gateway at `o.gateway`. Exported for tests. */
export async function runTraffic(o) {
  // Real time: travel must be possible within seconds of the warm-up's verified reset, so
  // the owners live in three neighbouring countries whose centres lie under 500 km apart
  // (geo-impossible-travel needs more), and travel goes next door. Medium-tier resets from
  // hosting or VPN networks are not enrolled (SMS is never offered there, so the arms would
  // not compare), hence travellers rather than cloud proxies.
  const users = population({ seed: o.seed, users: o.users, domain: `traffic${o.seed}.example`, shares: { DE: 1, NL: 1, BE: 1 } });
  const state = { cookies: new Map(), since: 0, random: rng(o.seed + 1), reports: 0, counted: 0, seen: new Map() };
  state.count = (key) => state.seen.set(key, (state.seen.get(key) ?? 0) + 1);
  state.since = await received(o, 0, new Map());
  const warm = users.map((user) => ({ kind: "home", user, ip: user.homeIp, device: user.device, country: user.home, newDevice: false }));
  await play(o, state, warm, "warm-up");
  const nearby = { DE: ["NL", "BE"], NL: ["BE", "DE"], BE: ["NL", "DE"] };
  const resets = plan({ seed: o.seed, users, start: Date.now(), days: 1, perUser: 1.5, mix: { home: 0.4, travel: 0.55, attack: 0.05 }, nearby });
  await play(o, state, resets, "reset");
  return state;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let o;
  try {
    o = options(process.argv.slice(2));
    const state = await runTraffic(o);
    if (!o.quiet) {
      console.log("what happened (status, tier, arm):");
      for (const [key, n] of [...state.seen].sort()) console.log(`  ${key.padEnd(44)} x${n}`);
      console.log(`${state.reports} outcome reports, ${state.counted} counted for experiments`);
    }
    await showReport(o);
  } catch (err) {
    console.error(`traffic: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
