/**
 * The Upstash adapter's Lua scripts, kept apart with their SHA-1 pinned (tested in
 * test/unit/store-upstash-scripts.test.ts), so EVALSHA needs no hashing at request time.
 *
 * Every key a script touches arrives in KEYS, which `allow-key-locking` requires: on
 * Upstash the script then locks only those keys, so requests for different accounts
 * and IPs run in parallel. Scripts return raw counts; the arithmetic lives in
 * window.ts and penalty.ts, shared with the Durable Object adapter. Integers are
 * formatted with %d because Lua 5.1 would print large numbers in exponent notation.
 */

/** A script and its pinned SHA-1. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
}

/**
 * One request's batch. ARGV: hit count, distinct count, history flag, penalty count,
 * history limit, limit count, now, roster flag; then per hit its expiry, per distinct
 * member and expiry, per rate limit its limit, window and expiry; then the roster field.
 * KEYS: per hit current and previous bucket; per distinct the same; history devices,
 * countries, asns, last-verified, tag; per penalty its key; per rate limit current and
 * previous bucket; the roster bucket and the roster marker.
 * Rate limits are @upstash/ratelimit's sliding window, decided here as its own script
 * does (same keys, same arithmetic; a differential test runs both on one Redis): a check
 * whose weighted count has reached the limit fails without consuming.
 * Returns {hits = {{current, previous}...}, distinct = {n...}, history, penalties,
 * limits = {{consumed, current, weighted previous}...}, roster = {marker or false, listed 0|1}}.
 */
const OBSERVE = `#!lua flags=allow-key-locking
local nh, nd, hh, np, hl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local nl, now, rr = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local k, a = 1, 9
local hits, distinct, history, penalties, limits, roster = {}, {}, {}, {}, {}, {}
for i = 1, nh do
  local current = redis.call("INCR", KEYS[k])
  redis.call("PEXPIREAT", KEYS[k], ARGV[a])
  hits[i] = {current, tonumber(redis.call("GET", KEYS[k + 1]) or "0")}
  k, a = k + 2, a + 1
end
for i = 1, nd do
  redis.call("PFADD", KEYS[k], ARGV[a])
  redis.call("PEXPIREAT", KEYS[k], ARGV[a + 1])
  distinct[i] = redis.call("PFCOUNT", KEYS[k], KEYS[k + 1])
  k, a = k + 2, a + 2
end
if hh == 1 then
  history = {
    redis.call("ZREVRANGE", KEYS[k], 0, hl - 1),
    redis.call("ZREVRANGE", KEYS[k + 1], 0, hl - 1),
    redis.call("ZREVRANGE", KEYS[k + 2], 0, hl - 1),
    redis.call("HMGET", KEYS[k + 3], "lat", "lon", "at"),
    redis.call("HMGET", KEYS[k + 4], "privileged"),
  }
  k = k + 5
end
for i = 1, np do
  penalties[i] = redis.call("HMGET", KEYS[k], "level", "until")
  k = k + 1
end
for i = 1, nl do
  local limit, window = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local current = tonumber(redis.call("GET", KEYS[k]) or "0")
  local previous = tonumber(redis.call("GET", KEYS[k + 1]) or "0")
  local weighted = math.floor((1 - (now % window) / window) * previous)
  if weighted + current >= limit then
    limits[i] = {0, current, weighted}
  else
    current = redis.call("INCR", KEYS[k])
    redis.call("PEXPIREAT", KEYS[k], ARGV[a + 2])
    limits[i] = {1, current, weighted}
  end
  k, a = k + 2, a + 3
end
if rr == 1 then
  roster = {redis.call("GET", KEYS[k + 1]), redis.call("HEXISTS", KEYS[k], ARGV[a])}
end
return {hits, distinct, history, penalties, limits, roster}
`;

/**
 * Merge a confirmed outcome into an account's history. KEYS: devices, countries, asns,
 * last-verified, tag. ARGV: at, expiry, limit, device, country, asn, lat, lon, privileged
 * ("1"/"0"), privileged at ("" = none). ZADD GT keeps each member's newest time; the
 * trim keeps the newest `limit`. The tag's latest statement wins; a set tag never
 * expires (PERSIST), a cleared one expires with the history.
 */
const HISTORY = `#!lua flags=allow-key-locking
local at, expiry, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
for i = 1, 3 do
  local member = ARGV[3 + i]
  if member ~= "" then
    redis.call("ZADD", KEYS[i], "GT", at, member)
    redis.call("ZREMRANGEBYRANK", KEYS[i], 0, -(limit + 1))
  end
end
if ARGV[7] ~= "" then
  local previous = tonumber(redis.call("HGET", KEYS[4], "at") or "-1")
  if tonumber(at) >= previous then
    redis.call("HSET", KEYS[4], "lat", ARGV[7], "lon", ARGV[8], "at", at)
  end
end
if ARGV[9] ~= "" then
  local previous = tonumber(redis.call("HGET", KEYS[5], "at") or "-1")
  if tonumber(ARGV[10]) >= previous then
    redis.call("HSET", KEYS[5], "privileged", ARGV[9], "at", ARGV[10])
  end
end
-- Extend, never shorten: an older outcome arriving late keeps the newer expiry.
local clock = redis.call("TIME")
local nowMs = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function extend(key)
  local ttl = redis.call("PTTL", key)
  if ttl == -1 or (ttl >= 0 and nowMs + ttl < tonumber(expiry)) then redis.call("PEXPIREAT", key, expiry) end
end
for i = 1, 4 do
  if redis.call("EXISTS", KEYS[i]) == 1 then extend(KEYS[i]) end
end
local tag = redis.call("HGET", KEYS[5], "privileged")
if tag == "1" then redis.call("PERSIST", KEYS[5]) elseif tag then extend(KEYS[5]) end
return 1
`;

/** Mirrors penalty.ts `escalate`. KEYS: penalty. ARGV: now, base, factor, max, decay, max level. */
const PENALIZE = `#!lua flags=allow-key-locking
local now, base, factor, max, decay, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local stored = redis.call("HMGET", KEYS[1], "level", "until")
local level, untilAt = tonumber(stored[1] or "0"), tonumber(stored[2] or "0")
if level > 0 and now >= untilAt then
  level = math.max(0, level - math.floor((now - untilAt) / decay))
end
level = math.min(cap, level + 1)
local box = math.min(max, base * factor ^ (level - 1))
local current = 0
if untilAt > now then current = untilAt end
local nextUntil = math.max(current, now + math.floor(box + 0.5))
redis.call("HSET", KEYS[1], "level", string.format("%d", level), "until", string.format("%d", nextUntil))
redis.call("PEXPIREAT", KEYS[1], string.format("%d", nextUntil + level * decay))
return {level, nextUntil}
`;

/**
 * Lift penalty boxes (an operator's action). KEYS: penalty keys, then per rate limit its
 * current and previous bucket. ARGV: penalty count, now. Deletes every key; returns how
 * many of the penalties were boxed at `now`.
 */
const LIFT = `#!lua flags=allow-key-locking
local np, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local boxed = 0
for i = 1, np do
  if tonumber(redis.call("HGET", KEYS[i], "until") or "0") > now then boxed = boxed + 1 end
end
if #KEYS > 0 then redis.call("DEL", unpack(KEYS)) end
return boxed
`;

/**
 * Count an experiment event once. KEYS: tally hash [, event id]. ARGV: event expiry,
 * then field/amount pairs. Returns 0 when the event id was already counted.
 */
const TALLY = `#!lua flags=allow-key-locking
if #KEYS == 2 then
  if not redis.call("SET", KEYS[2], "1", "NX", "PXAT", ARGV[1]) then return 0 end
end
for i = 2, #ARGV, 2 do
  redis.call("HINCRBY", KEYS[1], ARGV[i], ARGV[i + 1])
end
return 1
`;

/**
 * The origin's roster statement, atomically. KEYS: per added key its bucket, per removed
 * key its bucket, then the marker. ARGV: add count, marker op ("1" set to the as-of, "0"
 * delete, "" leave), as-of; then per key its field. Returns the marker (as-of) or false.
 */
const ROSTER = `#!lua flags=allow-key-locking
local na, op, at = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local marker = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  if i <= na then redis.call("HSET", KEYS[i], ARGV[3 + i], "1") else redis.call("HDEL", KEYS[i], ARGV[3 + i]) end
end
if op == "1" then redis.call("SET", marker, at) elseif op == "0" then redis.call("DEL", marker) end
return redis.call("GET", marker)
`;

/** One request's batch (see OBSERVE above). */
export const OBSERVE_SCRIPT: LuaScript = {
  name: "observe",
  source: OBSERVE,
  sha1: "a749410b92a35ba9bb82add3687d94ad1a102015",
};
/** Merge a confirmed outcome into an account's history. */
export const HISTORY_SCRIPT: LuaScript = {
  name: "history",
  source: HISTORY,
  sha1: "da2c508c50df5f7a88849a9ab877358eb302a41d",
};
/** One more violation for a key. */
export const PENALIZE_SCRIPT: LuaScript = {
  name: "penalize",
  source: PENALIZE,
  sha1: "d1f67aea9df51bfa48a5e3d25e13c743596769cb",
};
/** Count an experiment event once. */
export const TALLY_SCRIPT: LuaScript = {
  name: "tally",
  source: TALLY,
  sha1: "e552971b916caed2c06155d1461c91097a3ffb13",
};
/** Lift penalty boxes (see LIFT above). */
export const LIFT_SCRIPT: LuaScript = {
  name: "lift",
  source: LIFT,
  sha1: "99343dbe91584b953637568bd2cb1a08d7c35db4",
};
/** The origin's roster statement (see ROSTER above). */
export const ROSTER_SCRIPT: LuaScript = {
  name: "roster",
  source: ROSTER,
  sha1: "60bb58730f9ef37efeb64879d056dd888b66a4a4",
};
