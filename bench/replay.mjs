// Replay at scale: generates a decision log of N lines (default 1,000,000) shaped like
// the gateway's, then runs `riskgate rules replay` on it in a child process with a
// candidate that changes one weight, and reports time and the child's peak RSS.
// Peak RSS is reported, never asserted: the point is that it stays flat with N.
//
//   node bench/replay.mjs [--lines 1000000] [--keep]
import { spawn } from "node:child_process";
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const LINES = arg("lines", 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "riskgate-replay-"));
const log = join(dir, "decisions.jsonl");

// A small deterministic PRNG, so every run replays the same traffic.
let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

function facts() {
  const bot = rand() < 0.05;
  return {
    request: { path: "/password/reset", method: "POST" },
    ip: { known: true, version: rand() < 0.2 ? 6 : 4 },
    device: { ua_length: bot ? 10 : 111, browser: bot ? "" : pick(["Chrome", "Safari", "Firefox", "Edge"]), browser_major: bot ? 0 : 120 + Math.floor(rand() * 12), os: pick(["Windows", "Mac OS", "iOS", "Android", "Linux"]), type: pick(["desktop", "mobile"]), automation: bot, headless: rand() < 0.02, known: rand() < 0.3 },
    geo: { known: true, country: pick(["US", "GB", "DE", "FR", "BR", "IN", "NG", "JP"]), region: "", asn: pick([7922, 3320, 24940, 16509, 13335]), as_org: "net", new_country: rand() < 0.1, new_asn: rand() < 0.2, distance_km: rand() < 0.02 ? 8000 : 10, speed_kmh: rand() < 0.02 ? 4000 : 5 },
    account: { has_history: rand() < 0.7 },
    velocity: { account_1h: Math.floor(rand() * 8), account_24h: Math.floor(rand() * 25), ip_10m: bot ? 30 : 1, subnet_1h: Math.floor(rand() * 120), device_1h: 1, asn_10m: 5, global_1m: 50 },
    distinct: { accounts_per_ip_1h: bot ? 12 : 1, accounts_per_subnet_1h: 3, accounts_per_device_1h: bot ? 6 : 1, ips_per_account_24h: 1, devices_per_account_24h: 1 },
    budget: { sms_otp: Math.floor(rand() * 100) },
  };
}

async function generate() {
  const out = createWriteStream(log);
  for (let i = 0; i < LINES; i++) {
    const line = { type: "riskgate.decision", ts: "2026-11-22T00:00:00.000Z", id: `d-${i}`, route: "/password/reset", verdict: "allow", tier: "low", score: 0, channel: "email_link", reasons: [], shadow_reasons: [], mode: "live", errors: [], rules: "bench", account: "AAAAAAAAAAAAAAAAAAAAAA", ip: "BBBBBBBBBBBBBBBBBBBBBB", action: "forwarded", origin_status: 200, origin_ms: 12, ms: 3, facts: facts(), candidate: null };
    if (!out.write(`${JSON.stringify(line)}\n`)) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise((resolve) => out.end(resolve));
}

const t0 = performance.now();
await generate();
const genS = (performance.now() - t0) / 1000;

// Candidate: the headless rule becomes decisive.
const rules = join(dir, "rules");
cpSync("rules", rules, { recursive: true });
mkdirSync(join(rules, "candidate"), { recursive: true });
writeFileSync(join(rules, "candidate", "rules.yaml"), readFileSync("rules/rules.yaml", "utf8").replace("    weight: 40\n    reason: UA_HEADLESS", "    weight: 100\n    reason: UA_HEADLESS"));

const t1 = performance.now();
const child = spawn(process.execPath, ["bin/riskgate.mjs", "rules", "replay", log, "--dir", rules, "--candidate", join(rules, "candidate"), "--json"], { stdio: ["ignore", "pipe", "pipe"] });
let stdout = "";
let stderr = "";
child.stdout.on("data", (c) => (stdout += c));
child.stderr.on("data", (c) => {
  stderr += c;
  process.stderr.write(c);
});
const code = await new Promise((resolve) => child.on("exit", resolve));
const replayS = (performance.now() - t1) / 1000;
if (code !== 0) throw new Error(`replay exited ${code}: ${stderr}`);
const report = JSON.parse(stdout);
const rss = /(\d+) MiB peak RSS\n$/.exec(stderr)?.[1];
console.log(JSON.stringify({
  bench: "replay",
  lines: LINES,
  log_mib: Math.round(statSync(log).size / 1048576),
  generate_s: Number(genS.toFixed(1)),
  replay_s: Number(replayS.toFixed(1)),
  lines_per_s: Math.round(LINES / replayS),
  replay_peak_rss_mib: rss === undefined ? null : Number(rss),
  decisions: report.decisions,
  verdict_changed: report.verdictChanged,
  tier_changed: report.tierChanged,
}));
if (!process.argv.includes("--keep")) rmSync(dir, { recursive: true, force: true });
else console.error(`kept ${dir}`);
