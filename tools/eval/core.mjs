// The pure parts of the labelled evaluation (npm run eval): a seeded PRNG, the
// classification of one observed request, and the aggregation into per-class rows and
// the summary JSON. No I/O and no clock, so test/unit/eval-harness.test.ts checks them
// without a gateway. The harness treats riskgate as a black box over HTTP: nothing here
// imports from src/.

/** A seeded PRNG (sfc32 seeded through splitmix32): the same seed gives the same traffic. */
export function rng(seed) {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Helpers over a PRNG. */
export function tools(random) {
  const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = (items) => items[Math.floor(random() * items.length)];
  const chance = (p) => random() < p;
  /** Pick a key of `weights` ({key: weight}) or an item of [[item, weight]...] by weight. */
  const weighted = (weights) => {
    const entries = Array.isArray(weights) ? weights : Object.entries(weights);
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let x = random() * total;
    for (const [item, w] of entries) {
      x -= w;
      if (x < 0) return item;
    }
    return entries[entries.length - 1][0];
  };
  const shuffle = (items) => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  const hex = (n) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(random() * 16)]).join("");
  return { random, int, pick, chance, weighted, shuffle, hex };
}

/** The four things a client can end up with. */
export const OUTCOMES = ["forwarded", "challenged", "rate_limited", "silently_denied"];

/**
 * What happened to one request, from what the client saw and what the origin received.
 * A 202 is the uniform answer both for a forward and for a silent deny: only the origin
 * knows which (it received the request with a verified decision, or it did not).
 * @param {{ status: number, forwarded: boolean }} seen
 * @returns {"forwarded" | "challenged" | "rate_limited" | "silently_denied" | "error"}
 */
export function classify({ status, forwarded }) {
  if (status === 202 || status === 200) return forwarded ? "forwarded" : "silently_denied";
  if (status === 403) return "challenged";
  if (status === 429) return "rate_limited";
  return "error";
}

/** Friction for a legitimate user: anything but a plain forward. Blocked: no way through now. */
export const isFriction = (outcome) => outcome !== "forwarded";
export const isBlocked = (outcome) => outcome === "rate_limited" || outcome === "silently_denied" || outcome === "error";

const SEVERITY = { forwarded: 0, challenged: 1, rate_limited: 2, silently_denied: 3, error: 4 };
/** The worse of two outcomes (for the flooded owner's summary). */
export const worst = (a, b) => (SEVERITY[a] >= SEVERITY[b] ? a : b);

/** One table row: counts and shares over a list of results. */
export function summarise(results) {
  const n = results.length;
  const counts = Object.fromEntries([...OUTCOMES, "error"].map((o) => [o, 0]));
  const tiers = {};
  const channels = {};
  let smsUsable = 0;
  for (const r of results) {
    counts[r.outcome]++;
    if (r.outcome === "forwarded") {
      tiers[r.tier ?? "?"] = (tiers[r.tier ?? "?"] ?? 0) + 1;
      channels[r.channel ?? "?"] = (channels[r.channel ?? "?"] ?? 0) + 1;
      if (r.channel === "sms_otp" || (r.channels ?? []).includes("sms_otp")) smsUsable++;
    }
  }
  const share = (k) => (n === 0 ? 0 : counts[k] / n);
  return {
    n,
    counts,
    forwarded: share("forwarded"),
    challenged: share("challenged"),
    rate_limited: share("rate_limited"),
    silently_denied: share("silently_denied"),
    errors: counts.error,
    tiers,
    channels,
    sms_usable: smsUsable,
  };
}

/**
 * Per class and overall, plus the summary the last line prints.
 * Each result: { cls, group: "legit" | "attack" | "owner", outcome, tier?, channel?,
 * channels?, role?, reasons? }. Retries count as requests: a user who clicks twice and is
 * challenged twice is two challenged requests. `owner` results (a flooded account's owner
 * after the flood) count in neither share: they are the summary's owner_after_flood.
 */
export function aggregate(results) {
  const byClass = new Map();
  for (const r of results) {
    if (!byClass.has(r.cls)) byClass.set(r.cls, []);
    byClass.get(r.cls).push(r);
  }
  const rows = [...byClass].map(([cls, rs]) => ({ cls, group: rs[0].group, ...summarise(rs) }));
  const legit = results.filter((r) => r.group === "legit");
  const attack = results.filter((r) => r.group === "attack");
  const share = (rs, pred) => (rs.length === 0 ? 0 : rs.filter(pred).length / rs.length);
  const owners = results.filter((r) => r.role === "owner-known-device");
  const ownersNew = results.filter((r) => r.role === "owner-new-device");
  const ownerOutcome = (rs) => (rs.length === 0 ? null : rs.map((r) => r.outcome).reduce(worst, "forwarded"));
  const round = (x) => Math.round(x * 10_000) / 10_000;
  const summary = {
    attack_forwarded: round(share(attack, (r) => r.outcome === "forwarded")),
    // Diagnostic, not a target: attack requests forwarded at the low tier (a reset link
    // with no step-up). The rest of attack_forwarded reached the origin at a tier that
    // asks for a code or an enrolled factor (EVALUATION.md, metrics).
    attack_forwarded_low_tier: round(share(attack, (r) => r.outcome === "forwarded" && r.tier === "low")),
    legit_friction: round(share(legit, (r) => isFriction(r.outcome))),
    legit_blocked: round(share(legit, (r) => isBlocked(r.outcome))),
    owner_after_flood: ownerOutcome(owners),
    owner_after_flood_new_device: ownerOutcome(ownersNew),
    legit_requests: legit.length,
    attack_requests: attack.length,
    errors: results.filter((r) => r.outcome === "error").length,
  };
  return { rows, overall: { legit: summarise(legit), attack: summarise(attack), all: summarise(results) }, summary };
}

/** Count reason codes over results (for "what caused legitimate friction"). */
export function reasonCounts(results) {
  const counts = new Map();
  for (const r of results) {
    for (const code of r.reasons ?? []) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

const pct = (x) => `${(x * 100).toFixed(1)}%`.padStart(6);

/** The table, as lines of text. */
export function formatTable({ rows, overall }) {
  const head = `${"class".padEnd(28)} ${"n".padStart(5)} ${"fwd".padStart(6)} ${"chall".padStart(6)} ${"429".padStart(6)} ${"deny".padStart(6)}  forwarded: tier / channel`;
  const line = (name, s) => {
    const tiers = Object.entries(s.tiers).map(([k, v]) => `${k} ${v}`).join(", ");
    const channels = Object.entries(s.channels).map(([k, v]) => `${k} ${v}`).join(", ");
    const sms = s.sms_usable > 0 ? `; sms usable ${s.sms_usable}` : "";
    const err = s.errors > 0 ? `  (${s.errors} errors)` : "";
    return `${name.padEnd(28)} ${String(s.n).padStart(5)} ${pct(s.forwarded)} ${pct(s.challenged)} ${pct(s.rate_limited)} ${pct(s.silently_denied)}  ${tiers || "-"} / ${channels || "-"}${sms}${err}`;
  };
  const out = [head, "-".repeat(head.length + 20)];
  for (const group of ["legit", "attack", "owner"]) {
    for (const r of rows.filter((x) => x.group === group)) out.push(line(`${group}: ${r.cls}`, r));
  }
  out.push("-".repeat(head.length + 20));
  out.push(line("ALL legitimate", overall.legit));
  out.push(line("ALL attack", overall.attack));
  out.push(line("ALL", overall.all));
  return out;
}

/**
 * The classes whose targets are partly guessed (scenarios.mjs `targets`: 30 % real
 * accounts, the rest made-up addresses). Their addresses are accounts only when some
 * other actor (a user, a victim) has the same address.
 */
const GUESSING = new Set(["scripted enumeration", "browser-faking bots", "residential botnet"]);

/**
 * The accounts the demo origin holds for a plan: every address a user, a history set-up,
 * a takeover victim, the flooded owner or an SMS-pumping campaign (which signs up its own
 * accounts) resets; guessed targets are not accounts.
 */
export function accountsOf(p) {
  const emails = new Set();
  for (const actor of p.actors) {
    for (const step of [...(actor.setup ? [actor.setup[0]] : []), ...actor.steps]) {
      if (step.kind === "reset" && step.email && !GUESSING.has(step.cls)) emails.add(step.email);
    }
  }
  return [...emails];
}

/** Share of people who finish the reset they asked for (the link or code in their last email). */
export const FINISH_SHARE = 0.75;

/**
 * The resets that get finished, as the origin will report them: for each actor, the last
 * reset a legitimate user (or a flooded account's owner) asks for is finished with
 * probability FINISH_SHARE, on its own PRNG stream (so the plan plays as before). Nobody
 * finishes an attack's resets: a pumper does not care, and the owner of an account someone
 * else asked for never asked. Set-ups are taught separately (teachSetups).
 * @returns {Set<object>} the finished steps (by identity)
 */
export function finishers(p, seed) {
  const t = tools(rng(seed * 1000 + 13));
  const out = new Set();
  for (const actor of p.actors) {
    const asked = actor.steps.filter((s) => s.kind === "reset" && (s.group === "legit" || s.group === "owner"));
    if (asked.length > 0 && t.chance(FINISH_SHARE)) out.add(asked[asked.length - 1]);
  }
  return out;
}

/**
 * Teach the history set-ups: report each set-up's outcome events once the demo origin has
 * received its forward. The gateway forwards after its answer (src/reset/deliver.ts), so a
 * set-up answered 202 may not have reached the origin yet when the last answer is in:
 * `received()` (x-eval-id -> { token, claims }) is polled until every 202 set-up is there or
 * `waitMs` passed. A set-up read only once, right after the answers, lost its history
 * whenever its forward was slow (the takeover victims then had no history at all).
 * @param {{ id: string, status: number }[]} results the set-up requests' answers
 * @param {string[][]} events per set-up, the outcome events to report in order
 * @param {{ received: () => Promise<Map<string, unknown>>, report: (decision: unknown, event: string) => Promise<boolean>, sleep: (ms: number) => Promise<void>, now: () => number, waitMs: number, pollMs?: number }} io
 * @returns {Promise<{ taught: Set<string>, missing: string[] }>} ids whose every event was
 *   accepted; ids of 202 set-ups whose forward never arrived (or was silently denied)
 */
export async function teachSetups(results, events, io) {
  const expected = results.filter((r) => r.status === 202).map((r) => r.id);
  const deadline = io.now() + io.waitMs;
  let received = await io.received();
  while (expected.some((id) => !received.has(id)) && io.now() < deadline) {
    await io.sleep(io.pollMs ?? 250);
    received = await io.received();
  }
  const taught = new Set();
  await Promise.all(
    results.map(async (r, i) => {
      const d = received.get(r.id);
      if (d === undefined) return;
      let ok = true;
      for (const event of events[i] ?? []) ok = (await io.report(d, event)) && ok;
      if (ok) taught.add(r.id);
    }),
  );
  return { taught, missing: expected.filter((id) => !received.has(id)) };
}
