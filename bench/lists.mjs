// Reputation-list lookup at scale: compile 1,000,000 entries (IPv4 and IPv6 addresses
// and CIDRs, overlapping, some with expiry) as the build does, then report the compiled
// size (raw and gzipped, the Worker bundle limit is on gzipped size), the decode time
// at isolate start, and the median lookup time.
//
//   node bench/lists.mjs [--entries 1000000] [--json]
import { gzipSync } from "node:zlib";
import { register } from "tsx/esm/api";

register();
const { compileLists } = await import("../src/scoring/signals/list-compile.ts");
const { loadReputationLists, reputationFacts } = await import("../src/scoring/signals/ip-reputation.ts");
const { lookupRange } = await import("../src/shared/range-table.ts");
const { addressKey } = await import("../src/shared/ip-key.ts");
const { parseIp } = await import("../src/context/client-ip.ts");

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const N = Number(arg("entries", "1000000"));
const NOW = Date.parse("2026-06-01T00:00:00Z");

// A deterministic generator (mulberry32), so runs are comparable.
let seed = 42;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const u32 = () => Math.floor(rand() * 2 ** 32);
const u64 = () => (BigInt(u32()) << 32n) | BigInt(u32());

function entry() {
  const r = rand();
  const expires = rand() < 0.1 ? NOW + Math.floor(rand() * 90) * 86_400_000 : 0;
  const reason = ["tor exit", "spamhaus drop", "incident", "datacenter", ""][Math.floor(rand() * 5)];
  if (r < 0.7) {
    const a = BigInt(u32());
    return { target: { version: 4, start: a, end: a }, expires, reason, line: 0 };
  }
  if (r < 0.9) {
    const prefix = 16 + Math.floor(rand() * 15);
    const size = 1n << BigInt(32 - prefix);
    const start = BigInt(u32()) & ~(size - 1n);
    return { target: { version: 4, start, end: start + size - 1n }, expires, reason, line: 0 };
  }
  const prefix = [48, 56, 64, 128][Math.floor(rand() * 4)];
  const size = 1n << BigInt(128 - prefix);
  const start = ((0x2000n << 112n) | (u64() << 48n) | BigInt(u32())) & ~(size - 1n);
  return { target: { version: 6, start, end: start + size - 1n }, expires, reason, line: 0 };
}

const names = ["tor_exits", "known_bad", "vpn", "hosting", "allow"];
const lists = names.map((name) => ({ name, entries: [] }));
for (let i = 0; i < N; i++) lists[Math.floor(rand() * lists.length)].entries.push(entry());

let t = performance.now();
const { pack, meta } = compileLists(lists, NOW);
const compileMs = performance.now() - t;
const gzipped = gzipSync(pack).byteLength;

t = performance.now();
const compiled = loadReputationLists(pack);
const decodeMs = performance.now() - t;

// Probe addresses: half drawn from the entries (hits), half random (mostly misses).
const probes4 = [];
const probes6 = [];
for (let i = 0; i < 100_000; i++) {
  const e = lists[i % 5].entries[Math.floor(rand() * lists[i % 5].entries.length)];
  const hit = rand() < 0.5;
  if (e.target.version === 4 || !hit) probes4.push(addressKey(hit && e.target.version === 4 ? fmt4(e.target.start) : fmt4(BigInt(u32()))).key);
  else probes6.push(addressKey(fmt6(e.target.start)).key);
}
function fmt4(n) {
  return [24, 16, 8, 0].map((s) => Number((n >> BigInt(s)) & 255n)).join(".");
}
function fmt6(n) {
  const parts = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return parts.join(":");
}

function medianNs(fn, keys, rounds = 15) {
  const samples = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (const k of keys) sink += fn(k);
    samples.push(Number(process.hrtime.bigint() - start) / keys.length);
  }
  samples.sort((a, b) => a - b);
  if (sink === -1) console.log(sink);
  return samples[Math.floor(samples.length / 2)];
}

const v4ns = medianNs((k) => lookupRange(compiled.v4, k), probes4);
const v6ns = medianNs((k) => lookupRange(compiled.v6, k), probes6);
const clientIps = probes4.slice(0, 20_000).map((k) => parseIp(fmt4(BigInt(k[0]))));
const factsNs = medianNs((ip) => reputationFacts(compiled, ip, 0, NOW).lists.length, clientIps);

const result = {
  entries: meta.entries,
  segments_v4: compiled.v4.count,
  segments_v6: compiled.v6.count,
  match_sets: meta.sets.length,
  compile_ms: Math.round(compileMs),
  compiled_bytes: pack.byteLength,
  compiled_gzip_bytes: gzipped,
  decode_ms: Math.round(decodeMs),
  lookup_v4_ns: Math.round(v4ns),
  lookup_v6_ns: Math.round(v6ns),
  reputation_facts_ns: Math.round(factsNs),
};
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(result));
} else {
  console.log(`reputation lists, ${result.entries.toLocaleString()} entries (${names.length} lists, 70% IPv4 addresses, 20% IPv4 CIDRs, 10% IPv6)`);
  console.log(`  compiled        ${(pack.byteLength / 1048576).toFixed(2)} MiB, ${(gzipped / 1048576).toFixed(2)} MiB gzipped (${result.segments_v4.toLocaleString()} IPv4 + ${result.segments_v6.toLocaleString()} IPv6 segments)`);
  console.log(`  build           ${result.compile_ms} ms; decode at isolate start ${result.decode_ms} ms`);
  console.log(`  lookup          IPv4 ${result.lookup_v4_ns} ns, IPv6 ${result.lookup_v6_ns} ns (median, table only)`);
  console.log(`  ip.* facts      ${result.reputation_facts_ns} ns per request (address parsing + lookup + facts)`);
  console.log(JSON.stringify(result));
}
