// The scale simulation (issue 17.5; docs/architecture.md, "Scale"). Many concurrent
// clients, each standing for one gateway isolate, load ONE audit hub shard and ONE store
// shard of the real Durable Object classes under Miniflare (workerd), and the Upstash
// adapter against a real redis-server behind the project's Upstash-REST bridge. It
// measures:
//   - events/s one hub shard ingests (flushes of 1 and of 10 requests' events),
//   - resets/s one store shard answers (a full reset batch; and the `global`-only part),
//   - SQLite bytes per event and per request in the hub (ctx.storage.sql.databaseSize),
//   - SQLite rows read/written per reset in the hub and in the store (each statement's
//     rowsRead/rowsWritten, summed inside the objects: what Durable Objects bill),
//   - Upstash commands and HTTP bytes per reset (counted at the bridge and at fetch),
// then prints the cost model of a 10,000 req/s distributed attack from those numbers and
// published prices, and writes everything to bench/results/scale/<time>.json.
//
//   node bench/scale.mjs [--seconds 6] [--isolates 1,16,64]
//   node bench/scale.mjs recommend --resets-per-sec 800 [--events-per-reset 2] [--from FILE]
//       prints AUDIT_HUB_SHARDS / STORE_SHARDS for that sustained rate from a measured run
//
// The client loops, workerd (the worker that relays and both objects) and redis share
// this machine: the ceilings are lower bounds for one object on its own core.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { bundleBaseline } from "./build.mjs";
import { freePort } from "./upstash.mjs";

const RESULTS = fileURLToPath(new URL("./results/scale/", import.meta.url));

/** Published prices, read 2026-12 (sources in docs/architecture.md, "Scale"). */
export const PRICES = {
  workerRequestPerM: 0.3,
  workerCpuMsPerM: 0.02,
  doRequestPerM: 0.15,
  doGbSecondPerM: 12.5,
  rowsReadPerM: 0.001,
  rowsWrittenPerM: 1.0,
  storageGbMonth: 0.2,
  upstashPer100kCommands: 0.2,
};
/** Upstash pay-as-you-go's published ceiling per database. */
const UPSTASH_MAX_COMMANDS_PER_S = 10_000;
/** Gateway CPU per allowed reset and per blocked request: BENCHMARKS.md, scenarios (b) and (d). */
const CPU_MS = { allowed: 1.782, blocked: 0.161 };
/** Store subrequests per reset by STORE_SHARDS, shipped ladders included (docs/store.md, measured with planShards). */
const STORE_SUBREQUESTS = [[1, 1], [2, 2], [4, 4], [8, 7.21], [16, 11.23], [32, 15.09]];
/** Planning headroom: run each object at most at this share of its measured ceiling. */
const HEADROOM = 0.5;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: "string", default: "6" },
    isolates: { type: "string", default: "1,16,64" },
    "resets-per-sec": { type: "string" },
    "events-per-reset": { type: "string", default: "2" },
    from: { type: "string" },
  },
});

/** The workerd process Miniflare started (a child of this process). */
function workerdPid() {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [, comm = "", rest = ""] = /^\d+ \((.*)\) (.*)$/s.exec(stat) ?? [];
      if (comm.includes("workerd") && Number(rest.split(" ")[1]) === process.pid) return Number(entry);
    } catch {
      // Gone between readdir and read.
    }
  }
  return null;
}

/** CPU seconds (user + system, all threads) a process has used. */
function cpuSeconds(pid) {
  if (pid === null) return Number.NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

function quantile(sorted, q) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** `clients` loops calling `once(client, i)` for `seconds`; completed calls, per second, p50/p99 ms. */
async function drive(clients, seconds, once, pid = null) {
  const cpu0 = cpuSeconds(pid);
  const until = performance.now() + seconds * 1000;
  const latencies = [];
  let failures = 0;
  let firstError;
  const loop = async (client) => {
    for (let i = 0; performance.now() < until; i++) {
      const t = performance.now();
      try {
        await once(client, i);
        latencies.push(performance.now() - t);
      } catch (err) {
        failures++;
        firstError ??= err;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, c) => loop(c)));
  const elapsed = (performance.now() - started) / 1000;
  if (latencies.length === 0) throw new Error(`every call failed: ${firstError}`);
  latencies.sort((a, b) => a - b);
  const cpuMsPerCall = ((cpuSeconds(pid) - cpu0) * 1000) / latencies.length;
  return {
    clients,
    calls: latencies.length,
    failures,
    perSecond: latencies.length / elapsed,
    // workerd's CPU per call: the relay worker, both ends of the RPC and the object. One
    // object runs on one thread, so 1000 / this is a lower bound of its ceiling on one core.
    cpuMsPerCall,
    cpuCeilingPerSecond: 1000 / cpuMsPerCall,
    p50ms: quantile(latencies, 0.5),
    p99ms: quantile(latencies, 0.99),
  };
}

async function post(url) {
  const res = await fetch(url, { method: "POST" });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function get(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** redis-server plus the Upstash-REST bridge (tools/redis-bridge/), or null when redis is missing. */
async function startRedisBridge() {
  const redisPort = await freePort();
  const redis = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const failed = await Promise.race([new Promise((r) => redis.once("error", () => r(true))), sleep(500).then(() => false)]);
  if (failed) return null;
  const { startBridge } = await import("../tools/redis-bridge/bridge.mjs");
  const bridge = await startBridge({ redisPort, port: 0, token: "riskgate-scale-token" });
  return {
    bindings: { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: bridge.token },
    stats: () => bridge.stats(),
    stop: async () => {
      await bridge.close();
      redis.kill("SIGTERM");
    },
  };
}

async function measure() {
  const seconds = Number(opts.seconds);
  const isolates = opts.isolates.split(",").map(Number);
  const dir = mkdtempSync(join(tmpdir(), "riskgate-scale-"));
  const bundle = await bundleBaseline("scale", dir);
  const redis = await startRedisBridge();
  const mf = new Miniflare({
    modules: true,
    scriptPath: bundle,
    modulesRoot: dir,
    compatibilityDate: "2026-04-20",
    durableObjects: {
      RISKGATE_AUDIT: { className: "RiskgateAuditHub", useSQLite: true },
      RISKGATE_STORE: { className: "RiskgateStore", useSQLite: true },
    },
    bindings: { RISKGATE_ENV: "development", ...(redis?.bindings ?? {}) },
    host: "127.0.0.1",
    port: 0,
  });
  const base = (await mf.ready).toString().replace(/\/$/, "");
  const pid = workerdPid();
  const run = { at: new Date().toISOString(), seconds, prices: PRICES, hub: [], store: [], upstash: null };
  try {
    // 1. Hub SQLite per request: 1,000 requests (2,000 events) into a fresh shard, sequentially.
    const sizeShard = `size-${crypto.randomUUID()}`;
    const empty = await get(`${base}/hub/stats?shard=${sizeShard}`);
    for (let i = 0; i < 100; i++) await post(`${base}/hub?shard=${sizeShard}&requests=10&source=size&seq=${1 + 20 * i}`);
    const full = await get(`${base}/hub/stats?shard=${sizeShard}`);
    run.hubSize = {
      requests: 1000,
      events: full.events,
      bytesPerRequest: (full.databaseSize - empty.databaseSize) / 1000,
      bytesPerEvent: (full.databaseSize - empty.databaseSize) / full.events,
      rowsWrittenPerRequest: (full.rows.written - empty.rows.written) / 1000,
      rowsReadPerRequest: (full.rows.read - empty.rows.read) / 1000,
      databaseSize: full.databaseSize,
    };
    console.log("hub SQLite per request:", run.hubSize);
    // The same with a SIEM webhook configured: each event also waits in the outbox until
    // delivered (here it never is: no webhook), the most a request costs in the hub.
    const outboxShard = `size-outbox-${crypto.randomUUID()}`;
    const emptyOutbox = await get(`${base}/hub/stats?shard=${outboxShard}`);
    for (let i = 0; i < 100; i++) await post(`${base}/hub?shard=${outboxShard}&requests=10&source=size&seq=${1 + 20 * i}&deliver=webhook`);
    const fullOutbox = await get(`${base}/hub/stats?shard=${outboxShard}`);
    run.hubSize.bytesPerRequestWithOutbox = (fullOutbox.databaseSize - emptyOutbox.databaseSize) / 1000;
    run.hubSize.rowsWrittenPerRequestWithOutbox = (fullOutbox.rows.written - emptyOutbox.rows.written) / 1000;
    console.log("with the webhook outbox:", run.hubSize.bytesPerRequestWithOutbox, "bytes,", run.hubSize.rowsWrittenPerRequestWithOutbox, "rows written per request");

    // 2. The fixed cost of a call through this harness (HTTP into workerd, the relay worker,
    //    one trivial RPC): how much of each call's CPU is not the object's (so the ceilings
    //    below are lower bounds).
    const noop = await drive(Math.max(...isolates), seconds, () => post(`${base}/hub/noop?shard=noop`), pid);
    run.callOverheadCpuMs = noop.cpuMsPerCall;
    console.log(`harness overhead: ${noop.cpuMsPerCall.toFixed(2)} ms workerd CPU per call`);

    // 3. Hub ceiling: each client is an isolate flushing 1 or 10 requests' events per call.
    for (const perFlush of [1, 10]) {
      for (const clients of isolates) {
        const shard = `ceiling-${perFlush}-${clients}-${crypto.randomUUID()}`;
        const r = await drive(clients, seconds, (c, i) =>
          post(`${base}/hub?shard=${shard}&requests=${perFlush}&source=iso-${c}&seq=${1 + 2 * perFlush * i}`),
        pid);
        const row = {
          ...r,
          requestsPerFlush: perFlush,
          eventsPerSecond: r.perSecond * perFlush * 2,
          eventsCeilingPerSecond: r.cpuCeilingPerSecond * perFlush * 2,
        };
        run.hub.push(row);
        console.log(
          `hub: ${clients} isolates, ${perFlush} request(s)/flush: ${Math.round(row.eventsPerSecond)} events/s here, ` +
            `${r.cpuMsPerCall.toFixed(2)} ms workerd CPU/flush -> ceiling ${Math.round(row.eventsCeilingPerSecond)} events/s, p50 ${row.p50ms.toFixed(1)} ms`,
        );
      }
    }

    // 4. Store shard ceiling (one shard-0 object): full reset batches, then the `global`-only part.
    const storeBefore = await get(`${base}/store/stats`);
    let resets = 0;
    for (const clients of isolates) {
      const r = await drive(clients, seconds, () => post(`${base}/store?mode=do`), pid);
      resets += r.calls;
      run.store.push({ ...r, batch: "reset" });
      console.log(
        `store: ${clients} clients: ${Math.round(r.perSecond)} resets/s here, ${r.cpuMsPerCall.toFixed(2)} ms workerd CPU/reset -> ceiling ${Math.round(r.cpuCeilingPerSecond)} resets/s, p50 ${r.p50ms.toFixed(1)} ms`,
      );
    }
    await sleep(2_500); // the write-behind flush (1 s) and its SQLite writes
    const storeAfter = await get(`${base}/store/stats`);
    const globalOnly = await drive(Math.max(...isolates), seconds, () => post(`${base}/store?mode=global`), pid);
    run.storeGlobal = globalOnly;
    console.log(
      `store, the global window alone: ${globalOnly.cpuMsPerCall.toFixed(2)} ms workerd CPU/call -> ceiling ${Math.round(globalOnly.cpuCeilingPerSecond)}/s`,
    );
    run.storeRows = {
      resets,
      rowsWrittenPerReset: (storeAfter.rows.written - storeBefore.rows.written) / resets,
      rowsReadPerReset: (storeAfter.rows.read - storeBefore.rows.read) / resets,
      bytesPerReset: (storeAfter.databaseSize - storeBefore.databaseSize) / resets,
      counterRows: storeAfter.counterRows,
      evicted: storeAfter.evicted,
    };
    console.log("store rows per reset:", run.storeRows);

    // 5. Upstash: commands and bytes per reset, and what the local bridge sustains.
    if (redis !== null) {
      await post(`${base}/store?mode=upstash`); // loads the script (EVALSHA -> NOSCRIPT -> EVAL) once
      const before = redis.stats();
      const bytesBefore = await get(`${base}/upstash/bytes`);
      const clients = Math.max(...isolates);
      const r = await drive(clients, seconds, () => post(`${base}/store?mode=upstash`), pid);
      const after = redis.stats();
      const bytesAfter = await get(`${base}/upstash/bytes`);
      run.upstash = {
        ...r,
        commandsPerReset: (after.commands - before.commands) / r.calls,
        httpRequestsPerReset: (after.requests - before.requests) / r.calls,
        bytesSentPerReset: (bytesAfter.sent - bytesBefore.sent) / r.calls,
        bytesReceivedPerReset: (bytesAfter.received - bytesBefore.received) / r.calls,
      };
      console.log("upstash per reset:", run.upstash);
    } else {
      console.log("upstash: skipped (redis-server not found)");
    }
  } finally {
    await mf.dispose();
    await redis?.stop();
  }
  run.model = model(run, 10_000);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${run.at.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  printModel(run);
  console.log(`\nwritten: ${file}`);
}

/** Best measured rate of a series. */
const best = (rows, key) => Math.max(...rows.map((r) => r[key]));

/** The cost and capacity of `rate` distinct allowed resets per second, from a measured run. */
export function model(run, rate, eventsPerReset = 2) {
  const hour = rate * 3600;
  const hubEventsCeiling = best(run.hub.filter((r) => r.requestsPerFlush === 1), "eventsCeilingPerSecond");
  const hubEventsCeilingBatched = best(run.hub.filter((r) => r.requestsPerFlush === 10), "eventsCeilingPerSecond");
  const storeCeiling = best(run.store, "cpuCeilingPerSecond");
  const hubShards = Math.ceil((rate * eventsPerReset) / (hubEventsCeiling * HEADROOM));
  const storeShards = Math.ceil(rate / (storeCeiling * HEADROOM));
  const m = (n) => n / 1e6;
  // Workers: one request per reset; CPU per BENCHMARKS.md (b).
  const workers = { requests: hour, cpuMs: hour * CPU_MS.allowed };
  // Durable Objects with STORE=durable-object: the store RPCs per reset (STORE_SHARDS subrequests,
  // docs/store.md) plus one hub RPC per flush (worst case: one request per flush).
  const storeRpcPerReset = STORE_SUBREQUESTS.find(([n]) => n >= storeShards)?.[1] ?? 15.09;
  const doRequests = hour * (storeRpcPerReset + 1);
  const objects = hubShards + storeShards;
  const gbSeconds = objects * 0.128 * 3600; // each object busy the whole hour, 128 MB
  const rowsWritten = hour * (run.hubSize.rowsWrittenPerRequest + run.storeRows.rowsWrittenPerReset);
  const rowsRead = hour * (run.hubSize.rowsReadPerRequest + run.storeRows.rowsReadPerReset);
  const upstashHubRows = hour * run.hubSize.rowsWrittenPerRequest;
  const cost = {
    workerRequests: m(workers.requests) * PRICES.workerRequestPerM,
    workerCpu: m(workers.cpuMs) * PRICES.workerCpuMsPerM,
    doRequests: m(doRequests) * PRICES.doRequestPerM,
    doDuration: m(gbSeconds) * PRICES.doGbSecondPerM,
    rowsWritten: m(rowsWritten) * PRICES.rowsWrittenPerM,
    rowsRead: m(rowsRead) * PRICES.rowsReadPerM,
  };
  const upstash =
    run.upstash === null
      ? null
      : {
          commands: hour * run.upstash.commandsPerReset,
          bytes: hour * (run.upstash.bytesSentPerReset + run.upstash.bytesReceivedPerReset),
          databasesAtPaygCeiling: Math.ceil((rate * run.upstash.commandsPerReset) / UPSTASH_MAX_COMMANDS_PER_S),
          cost: (hour * run.upstash.commandsPerReset * PRICES.upstashPer100kCommands) / 100_000,
          // With STORE=upstash the DOs left are the hub's: its RPCs and rows.
          hubDoRequests: m(hour) * PRICES.doRequestPerM,
          hubRowsWritten: m(upstashHubRows) * PRICES.rowsWrittenPerM,
        };
  return {
    rate,
    eventsPerReset,
    ceilings: {
      hubEventsPerS: hubEventsCeiling,
      hubEventsPerSBatched: hubEventsCeilingBatched,
      storeResetsPerS: storeCeiling,
      storeGlobalPerS: run.storeGlobal.cpuCeilingPerSecond,
    },
    hubShards,
    storeShards,
    storeRpcPerReset,
    // The `global` window's shard sees every reset: above this rate it is the store's limit.
    globalWindowFits: rate <= run.storeGlobal.cpuCeilingPerSecond * HEADROOM,
    perHour: { workers, doRequests, gbSeconds, rowsWritten, rowsRead, cost, upstash },
  };
}

function usd(n) {
  return `$${n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2)}`;
}

function printModel(run) {
  const x = run.model;
  const c = x.perHour.cost;
  console.log(`\n10,000 req/s distributed attack (every request a distinct allowed reset), per hour:`);
  console.log(`  ceilings measured: hub ${Math.round(x.ceilings.hubEventsPerS)} events/s (1 req/flush), ${Math.round(x.ceilings.hubEventsPerSBatched)} (10 req/flush); store ${Math.round(x.ceilings.storeResetsPerS)} resets/s per shard`);
  console.log(`  (of which the harness itself, HTTP into workerd + relay + one trivial RPC: ${run.callOverheadCpuMs.toFixed(2)} ms CPU per call)`);
  console.log(`  shards at ${HEADROOM * 100} % headroom: AUDIT_HUB_SHARDS=${x.hubShards}, STORE_SHARDS=${x.storeShards}`);
  console.log(`  the global window's one shard: ceiling ${Math.round(x.ceilings.storeGlobalPerS)}/s -> ${x.globalWindowFits ? "fits" : "does NOT fit: drop the global window or use Upstash"}; ${x.storeRpcPerReset} store RPCs per reset`);
  console.log(`  Workers: ${(x.perHour.workers.requests / 1e6).toFixed(0)} M requests ${usd(c.workerRequests)}, ${(x.perHour.workers.cpuMs / 1e6).toFixed(0)} M CPU-ms ${usd(c.workerCpu)}`);
  console.log(`  DO: ${(x.perHour.doRequests / 1e6).toFixed(0)} M requests ${usd(c.doRequests)}, ${Math.round(x.perHour.gbSeconds)} GB-s ${usd(c.doDuration)}, ${(x.perHour.rowsWritten / 1e6).toFixed(0)} M rows written ${usd(c.rowsWritten)}, ${(x.perHour.rowsRead / 1e6).toFixed(0)} M rows read ${usd(c.rowsRead)}`);
  const u = x.perHour.upstash;
  if (u !== null) {
    console.log(`  Upstash: ${(u.commands / 1e6).toFixed(0)} M commands ${usd(u.cost)}, ${(u.bytes / 1e9).toFixed(1)} GB; needs ${u.databasesAtPaygCeiling} PAYG database(s) at 10,000 commands/s`);
  }
}

/** Shard counts for a sustained rate, from the newest (or a given) measured run. */
function recommend() {
  const rate = Number(opts["resets-per-sec"]);
  if (!Number.isFinite(rate) || rate <= 0) {
    console.error("recommend: --resets-per-sec must be a positive number");
    process.exit(2);
  }
  const file = opts.from ?? join(RESULTS, readdirSync(RESULTS).filter((f) => f.endsWith(".json")).sort().at(-1) ?? "");
  const run = JSON.parse(readFileSync(file, "utf8"));
  const x = model(run, rate, Number(opts["events-per-reset"]));
  console.log(`from ${file}:`);
  console.log(`  one hub shard ingests ${Math.round(x.ceilings.hubEventsPerS)} events/s (one request per flush); one store shard ${Math.round(x.ceilings.storeResetsPerS)} resets/s`);
  console.log(`  at ${rate} resets/s with ${HEADROOM * 100} % headroom: AUDIT_HUB_SHARDS=${x.hubShards}  STORE_SHARDS=${x.storeShards}`);
  console.log(`  store subrequests per reset at that STORE_SHARDS: ${x.storeRpcPerReset}`);
  if (!x.globalWindowFits) {
    console.log(
      `  but the \`global\` window's key stays on one shard whatever STORE_SHARDS is (ceiling ${Math.round(x.ceilings.storeGlobalPerS)}/s): at this rate drop the global window or use STORE=upstash`,
    );
  }
}

if (positionals[0] === "recommend") recommend();
else await measure();
