// The isolate's bounded caches under a flood of distinct keys, in Node (V8, like workerd),
// against the src modules themselves (through tsx): the local counters that stand in for
// the store during an outage (src/store/fallback.ts) and the block cache
// (src/store/ephemeral.ts). A flood of new keys (a botnet's addresses) keeps them full, so
// what one insert costs at capacity is what an attack costs the isolate per request.
//
//   node bench/caches.mjs [--keys N]     prints one JSON object: µs per observe / per set,
//                                        before the cache is full and once it is
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { register } from "tsx/esm/api";

register();
const { LocalCounters, LOCAL_COUNTERS_CAPACITY } = await import("../src/store/fallback.ts");
const { BlockCache, BLOCK_CACHE_CAPACITY } = await import("../src/store/ephemeral.ts");

const { values } = parseArgs({ options: { keys: { type: "string", default: "100000" } } });
const KEYS = Number(values.keys);
const T = Date.UTC(2026, 5, 1, 12);

/** µs per call of `step(i)` over [from, to). */
function perCall(from, to, step) {
  const started = performance.now();
  for (let i = from; i < to; i++) step(i);
  return Number((((performance.now() - started) * 1000) / (to - from)).toFixed(2));
}

// An allowed reset on local counters: two window hits and one ladder check, all new keys
// (each puts 2-3 entries).
const counters = new LocalCounters();
const observe = (i) =>
  counters.observe({
    now: T,
    hits: [
      { key: `acct:${i}`, windowMs: 600_000 },
      { key: `ip:${i}`, windowMs: 3_600_000 },
    ],
    limits: [{ key: `ip:${i}`, limit: 5, windowMs: 60_000 }],
  });
const fill = Math.floor(LOCAL_COUNTERS_CAPACITY / 3);
const blocks = new BlockCache();
const until = Date.now() + 3_600_000;
const block = (i) => blocks.set(`rg:rl:5:60000:ip:${i}`, until);

console.log(
  JSON.stringify({
    keys: KEYS,
    local_counters: {
      capacity: LOCAL_COUNTERS_CAPACITY,
      us_per_observe_filling: perCall(0, fill, observe),
      us_per_observe_full: perCall(fill, fill + KEYS, observe),
    },
    block_cache: {
      capacity: BLOCK_CACHE_CAPACITY,
      us_per_set_filling: perCall(0, BLOCK_CACHE_CAPACITY, block),
      us_per_set_full: perCall(BLOCK_CACHE_CAPACITY, BLOCK_CACHE_CAPACITY + KEYS, block),
    },
  }),
);
