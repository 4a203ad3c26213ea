// An Upstash-REST bridge in front of a real redis-server, so the Upstash adapter runs
// locally and in tests against real Redis semantics (Lua, HyperLogLog, TTLs).
//
// Protocol (as the Upstash REST API documents it and @upstash/redis speaks it):
//   POST /             body ["SET","k","v"]           -> {"result": ...} | 400 {"error": "..."}
//   POST /pipeline     body [["INCR","k"],["GET","k"]] -> [{"result": ...} | {"error": "..."}, ...]
//   POST /multi-exec   body like /pipeline, run inside MULTI/EXEC
//   POST|GET /set/k/v  path-style single command (handy with curl)
//   Authorization: Bearer <token> (or ?_token=), else 401 {"error": "Unauthorized"}
//   Upstash-Encoding: base64 -> every string in a result is base64; numbers and null are not
//
// Test-only extras, on a separate control port (so they work while the main port refuses):
//   POST /fault {"mode": "none|refuse|reset|hang|error500|garbage"}
//   GET /stats[?tag=x]  POST /stats/reset
// Lua: Upstash accepts a shebang flag open-source Redis rejects (`#!lua flags=allow-key-locking`,
// used by @upstash/ratelimit). The bridge strips flags Redis does not know before EVAL and
// maps the client's SHA-1 (of the original text) to Redis's (of the stripped text), so
// EVALSHA -> NOSCRIPT -> EVAL -> EVALSHA behaves exactly as against Upstash.
// A base URL may carry a tag, http://127.0.0.1:PORT/t/<tag>, so parallel test files count
// their own round trips.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { RedisConnection, RedisReplyError } from "./resp.mjs";

export const FAULT_MODES = ["none", "refuse", "reset", "hang", "error500", "garbage"];
const MAX_BODY_BYTES = 1024 * 1024;
// Commands that would block or corrupt the shared connection, or stop the server.
const DENIED = new Set([
  "multi", "exec", "discard", "watch", "unwatch", "select", "subscribe", "psubscribe",
  "ssubscribe", "monitor", "shutdown", "quit", "sync", "psync", "blpop", "brpop",
  "blmove", "bzpopmin", "bzpopmax", "xread", "xreadgroup", "wait", "client", "debug",
]);

// Flags open-source Redis 7 understands in a script shebang.
const REDIS_SCRIPT_FLAGS = new Set(["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]);

const sha1 = (text) => createHash("sha1").update(text, "utf8").digest("hex");

/** Drop shebang flags Redis does not know; returns the text unchanged when there are none. */
export function stripUpstashFlags(script) {
  const match = /^#!lua flags=([^\n]*)/.exec(script);
  if (match === null) return script;
  const kept = match[1].split(",").map((f) => f.trim()).filter((f) => REDIS_SCRIPT_FLAGS.has(f));
  const shebang = kept.length > 0 ? `#!lua flags=${kept.join(",")}` : "#!lua";
  return shebang + script.slice(match[0].length);
}

/**
 * Rewrites scripts and script hashes between the client's view (Upstash) and Redis's.
 * Returns the command to send and a function that maps its reply back.
 */
function scriptTranslator() {
  const toRedis = new Map();
  const identity = (reply) => reply;
  return function translate(args) {
    const name = args[0].toLowerCase();
    if ((name === "eval" || name === "eval_ro") && args.length > 1) {
      const stripped = stripUpstashFlags(args[1]);
      if (stripped !== args[1]) toRedis.set(sha1(args[1]), sha1(stripped));
      return { args: [args[0], stripped, ...args.slice(2)], reply: identity };
    }
    if ((name === "evalsha" || name === "evalsha_ro") && args.length > 1) {
      const sha = args[1].toLowerCase();
      return { args: [args[0], toRedis.get(sha) ?? sha, ...args.slice(2)], reply: identity };
    }
    if (name === "script" && args[1]?.toLowerCase() === "load" && args.length === 3) {
      const stripped = stripUpstashFlags(args[2]);
      if (stripped === args[2]) return { args, reply: identity };
      const original = sha1(args[2]);
      toRedis.set(original, sha1(stripped));
      return { args: [args[0], args[1], stripped], reply: (r) => (Buffer.isBuffer(r) ? Buffer.from(original) : r) };
    }
    if (name === "script" && args[1]?.toLowerCase() === "exists") {
      return { args: [...args.slice(0, 2), ...args.slice(2).map((s) => toRedis.get(s.toLowerCase()) ?? s)], reply: identity };
    }
    return { args, reply: identity };
  };
}

class BridgeError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Reply value -> JSON value, base64-encoding strings when the client asked for it. */
function toJson(value, base64) {
  if (value === null || typeof value === "number") return value;
  if (typeof value === "string") return base64 ? Buffer.from(value, "utf8").toString("base64") : value;
  if (Buffer.isBuffer(value)) return base64 ? value.toString("base64") : value.toString("utf8");
  if (value instanceof RedisReplyError) return toJson(value.message, base64);
  if (Array.isArray(value)) return value.map((v) => toJson(v, base64));
  return null;
}

function entry(value, base64) {
  return value instanceof RedisReplyError ? { error: value.message } : { result: toJson(value, base64) };
}

/** Validate one command: a non-empty array of scalars, name not denied. */
function command(value) {
  if (!Array.isArray(value) || value.length === 0) throw new BridgeError(400, "ERR failed to parse command");
  const args = value.map((arg) => {
    if (typeof arg === "string") return arg;
    if (typeof arg === "number" || typeof arg === "boolean") return String(arg);
    throw new BridgeError(400, "ERR failed to parse command");
  });
  if (DENIED.has(args[0].toLowerCase())) throw new BridgeError(400, `ERR command is not allowed: ${args[0]}`);
  return args;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new BridgeError(400, "ERR failed to parse command");
  }
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BridgeError(400, "ERR max request size exceeded");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function tokenMatches(expected, given) {
  const a = Buffer.from(expected);
  const b = Buffer.from(given ?? "");
  return a.length === b.length && timingSafeEqual(a, b);
}

function givenToken(req, url) {
  const header = req.headers.authorization ?? "";
  if (header.startsWith("Bearer ")) return header.slice(7);
  return url.searchParams.get("_token");
}

/** `/t/<tag>/pipeline` -> { tag, path: "/pipeline" }. */
function splitTag(pathname) {
  const match = /^\/t\/([A-Za-z0-9_-]+)(\/.*)?$/.exec(pathname);
  return match ? { tag: match[1], path: match[2] ?? "/" } : { tag: "", path: pathname };
}

function kindOf(path) {
  if (path === "/pipeline") return "pipeline";
  if (path === "/multi-exec") return "multiExec";
  return "single";
}

/** Run the request against Redis and produce [status, body, commands run]. */
async function execute(redis, translate, path, method, body, base64) {
  if (path === "/pipeline" || path === "/multi-exec") {
    const list = parseJson(body);
    if (!Array.isArray(list) || list.length === 0) throw new BridgeError(400, "ERR failed to parse pipeline request");
    const prepared = list.map((c) => translate(command(c)));
    const commands = prepared.map((p) => p.args);
    const back = (replies) => replies.map((r, i) => entry(prepared[i]?.reply(r) ?? r, base64));
    if (path === "/pipeline") return [200, back(await redis.send(commands)), commands.length];
    const replies = await redis.send([["MULTI"], ...commands, ["EXEC"]]);
    const exec = replies[replies.length - 1];
    if (exec instanceof RedisReplyError) return [400, { error: exec.message }, commands.length];
    if (!Array.isArray(exec)) return [400, { error: "EXECABORT Transaction discarded" }, commands.length];
    return [200, back(exec), commands.length];
  }
  let args;
  if (path === "/") {
    if (method !== "POST") throw new BridgeError(405, "ERR use POST with a JSON array body");
    args = command(parseJson(body));
  } else {
    const parts = path.split("/").slice(1).filter((p) => p.length > 0).map(decodeURIComponent);
    if (body.length > 0) parts.push(body);
    args = command(parts);
  }
  const prepared = translate(args);
  const [raw] = await redis.send([prepared.args]);
  const reply = prepared.reply(raw);
  if (reply instanceof RedisReplyError) return [400, { error: reply.message }, 1];
  return [200, { result: toJson(reply, base64) }, 1];
}

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve(server.address().port);
    });
  });
}

function emptyStats() {
  return { requests: 0, single: 0, pipeline: 0, multiExec: 0, commands: 0, connections: 0, resets: 0 };
}

/**
 * Start the bridge on 127.0.0.1.
 * @param {{ redisPort: number, token: string, port?: number, controlPort?: number,
 *           hangLimitMs?: number, log?: (line: string) => void }} options
 */
export async function startBridge({ redisPort, token, port = 0, controlPort = 0, hangLimitMs = 10_000, log }) {
  if (typeof token !== "string" || token.length < 8) throw new Error("bridge token must be at least 8 characters");
  const redis = new RedisConnection({ port: redisPort });
  const translate = scriptTranslator();
  let mode = "none";
  /** @type {Map<string, ReturnType<typeof emptyStats>>} */
  const stats = new Map();
  const hung = new Set();
  const statsFor = (tag) => {
    let s = stats.get(tag);
    if (s === undefined) {
      s = emptyStats();
      stats.set(tag, s);
    }
    return s;
  };
  const countAll = (tag, field, n = 1) => {
    statsFor(tag)[field] += n;
    if (tag !== "") statsFor("")[field] += n;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://bridge");
    const { tag, path } = splitTag(url.pathname);
    const kind = kindOf(path);
    countAll(tag, "requests");
    countAll(tag, kind);
    if (mode === "hang") {
      // Bounded: a hung request is cut after hangLimitMs even if nobody switches the mode back.
      const timer = setTimeout(() => release(res), hangLimitMs);
      hung.add({ res, timer });
      return;
    }
    if (mode === "reset") return req.socket.resetAndDestroy();
    if (mode === "error500") return send(res, 500, { error: "ERR bridge fault: internal server error" });
    if (mode === "garbage") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end("<html>\u0000not json{[");
    }
    try {
      if (!tokenMatches(token, givenToken(req, url))) throw new BridgeError(401, "Unauthorized");
      const body = await readBody(req);
      const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      const [status, result, commands] = await execute(redis, translate, path, req.method ?? "POST", body, base64);
      countAll(tag, "commands", commands);
      log?.(`${req.method} ${url.pathname} ${commands} command(s) -> ${status}`);
      send(res, status, result);
    } catch (err) {
      if (err instanceof BridgeError) return send(res, err.status, { error: err.message });
      // Redis itself is unreachable: what a REST gateway in front of a dead Redis answers.
      send(res, 502, { error: `ERR redis unavailable: ${err?.message ?? err}` });
    }
  });
  server.on("connection", (socket) => {
    countAll("", "connections");
    if (mode === "reset") {
      // Counted: a connection reset before any request could be read is still an attempt.
      countAll("", "resets");
      socket.resetAndDestroy();
    }
  });

  function release(res) {
    for (const h of hung) {
      if (h.res === res) {
        clearTimeout(h.timer);
        hung.delete(h);
      }
    }
    res.destroy();
  }

  const actualPort = await listen(server, port);
  let listening = true;

  async function setFault(next) {
    if (!FAULT_MODES.includes(next)) throw new Error(`unknown fault mode ${next}`);
    if (mode === "hang" && next !== "hang") for (const h of [...hung]) release(h.res);
    mode = next;
    if (next === "refuse" && listening) {
      listening = false;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    } else if (next !== "refuse" && !listening) {
      await listen(server, actualPort);
      listening = true;
    }
  }

  const control = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://control");
    if (!tokenMatches(token, givenToken(req, url))) return send(res, 401, { error: "Unauthorized" });
    try {
      if (req.method === "GET" && url.pathname === "/stats") {
        return send(res, 200, { mode, ...statsFor(url.searchParams.get("tag") ?? "") });
      }
      if (req.method === "POST" && url.pathname === "/stats/reset") {
        stats.clear();
        return send(res, 200, { ok: true });
      }
      if (req.method === "POST" && url.pathname === "/fault") {
        const { mode: next } = parseJson(await readBody(req));
        await setFault(next);
        return send(res, 200, { mode });
      }
      send(res, 404, { error: "not found" });
    } catch (err) {
      send(res, 400, { error: String(err?.message ?? err) });
    }
  });
  const actualControlPort = await listen(control, controlPort);

  return {
    url: `http://127.0.0.1:${actualPort}`,
    controlUrl: `http://127.0.0.1:${actualControlPort}`,
    token,
    setFault,
    stats: (tag = "") => ({ mode, ...statsFor(tag) }),
    resetStats: () => stats.clear(),
    async close() {
      for (const h of [...hung]) release(h.res);
      redis.close();
      const closing = [new Promise((resolve) => control.close(() => resolve()))];
      control.closeAllConnections();
      if (listening) {
        server.closeAllConnections();
        closing.push(new Promise((resolve) => server.close(() => resolve())));
      }
      await Promise.all(closing);
    },
  };
}
