// The request-path cost of the live layer (src/shared/live-list.ts): the IP reputation
// facts of one request (bundled lists + live layer, src/scoring/signals/ip-reputation.ts)
// with no live entries and with 10,000 (a refreshed feed: addresses and CIDRs of every
// IPv4 prefix length /8 to /32, and IPv6 /48s), in the same run. Also what each isolate's
// reload costs off the request path: building the index, and the JSON the hub returns, and
// a reload when the hub's version is unchanged (nothing returned, nothing indexed).
// Median CPU time over rounds of a mix of 1,000 client addresses (mostly misses, as real traffic).
//
//   node bench/live-lists.mjs [--rounds 30] [--entries 10000] [--json]
import { readFileSync } from "node:fs";
import { register } from "tsx/esm/api";

register();
const { indexLive, canonicalTarget } = await import("../src/shared/live-list.ts");
const { loadReputationLists, reputationFacts } = await import("../src/scoring/signals/ip-reputation.ts");
const { LiveListCache } = await import("../src/scoring/signals/live-lists.ts");

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const ROUNDS = Number(arg("rounds", "30"));
const ENTRIES = Number(arg("entries", "10000"));
const lists = loadReputationLists(readFileSync("build/lists.bin"));
const now = Date.parse("2026-12-02T00:00:00Z");

// A deterministic pseudo-random stream (xorshift32).
let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const v4 = (n) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");

function entries(count) {
  const out = [];
  for (let i = 0; out.length < count; i++) {
    const kind = i % 10;
    let text;
    if (kind < 5) text = v4(Math.floor(rand() * 2 ** 32) >>> 0);
    else if (kind < 9) {
      const prefix = 8 + (i % 25);
      const mask = prefix === 32 ? 0xffffffff : ~(2 ** (32 - prefix) - 1) >>> 0;
      text = `${v4((Math.floor(rand() * 2 ** 32) & mask) >>> 0)}/${prefix}`;
    } else text = `2001:db8:${Math.floor(rand() * 65536).toString(16)}::/48`;
    const t = canonicalTarget(text);
    if ("error" in t) continue;
    out.push({ target: t.target, kind: t.kind, list: "known_bad", effect: "add", reason: "feed", source: "feed:bench", created_at: now, expires_at: now + 86_400_000 });
  }
  return out;
}

const clients = Array.from({ length: 1000 }, (_, i) =>
  i % 10 === 9 ? { address: `2001:db8:${(i * 7).toString(16)}::1`, version: 6 } : { address: v4(Math.floor(rand() * 2 ** 32) >>> 0), version: 4 },
);

function perRequestNs(live) {
  const samples = [];
  for (let r = 0; r < ROUNDS; r++) {
    // CPU time, not wall time: on a shared, loaded machine the wall clock mostly measures waiting.
    const start = process.cpuUsage();
    for (let k = 0; k < 5; k++) for (const ip of clients) reputationFacts(lists, ip, 64500, now, live, "DE");
    const used = process.cpuUsage(start);
    samples.push(((used.user + used.system) * 1000) / (5 * clients.length));
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[Math.floor(samples.length / 2)]);
}

const rows = entries(ENTRIES);
const json = JSON.stringify(rows);
const buildSamples = [];
let index = null;
for (let r = 0; r < Math.max(5, Math.floor(ROUNDS / 3)); r++) {
  const start = process.cpuUsage();
  index = indexLive(JSON.parse(json));
  const used = process.cpuUsage(start);
  buildSamples.push((used.user + used.system) / 1000);
}
buildSamples.sort((a, b) => a - b);
// An unchanged reload: the hub answers null to the version the isolate holds (RiskgateAuditHub.liveLayer),
// so the isolate neither parses nor indexes anything.
const unchangedSamples = [];
const unchangedCache = new LiveListCache(async () => null, () => {}, 0);
for (let r = 0; r < ROUNDS; r++) {
  const start = process.cpuUsage();
  for (let k = 0; k < 100; k++) await unchangedCache.refresh(r * 100 + k);
  const used = process.cpuUsage(start);
  unchangedSamples.push((used.user + used.system) / 100);
}
unchangedSamples.sort((a, b) => a - b);
// Warm both paths, then alternate so drift hits both alike.
perRequestNs(null);
perRequestNs(index);
const none = [];
const full = [];
for (let i = 0; i < 3; i++) {
  none.push(perRequestNs(indexLive([])));
  full.push(perRequestNs(index));
}
const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = {
  entries: ENTRIES,
  ip_facts_ns_no_live: med(none),
  ip_facts_ns_live: med(full),
  live_cost_ns: med(full) - med(none),
  index_build_ms: Number(buildSamples[Math.floor(buildSamples.length / 2)].toFixed(2)),
  reload_json_bytes: json.length,
  reload_unchanged_us: Number(unchangedSamples[Math.floor(unchangedSamples.length / 2)].toFixed(2)),
};
if (process.argv.includes("--json")) console.log(JSON.stringify(result));
else
  console.log(
    `IP reputation facts per request: ${result.ip_facts_ns_no_live} ns with no live entries, ${result.ip_facts_ns_live} ns with ${ENTRIES} (live layer +${result.live_cost_ns} ns); reload: index build ${result.index_build_ms} ms, ${result.reload_json_bytes} B JSON; unchanged reload ${result.reload_unchanged_us} µs`,
  );
