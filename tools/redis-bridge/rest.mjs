// The Upstash REST protocol on top of RESP: request bodies in, Redis commands out,
// replies back as Upstash shapes them. Used by bridge.mjs (the HTTP server).
//
// Lua: Upstash accepts a shebang flag open-source Redis rejects (`#!lua flags=allow-key-locking`,
// used by @upstash/ratelimit and riskgate's own scripts). The bridge strips flags Redis
// does not know before EVAL and maps the client's SHA-1 (of the original text) to
// Redis's (of the stripped text), so EVALSHA -> NOSCRIPT -> EVAL -> EVALSHA behaves
// exactly as against Upstash.
import { createHash, timingSafeEqual } from "node:crypto";
import { RedisReplyError } from "./resp.mjs";

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
export function scriptTranslator() {
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

/** A request the bridge answers itself, with an HTTP status and an Upstash-shaped error. */
export class BridgeError extends Error {
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

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new BridgeError(400, "ERR failed to parse command");
  }
}

export async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BridgeError(400, "ERR max request size exceeded");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function tokenMatches(expected, given) {
  const a = Buffer.from(expected);
  const b = Buffer.from(given ?? "");
  return a.length === b.length && timingSafeEqual(a, b);
}

export function givenToken(req, url) {
  const header = req.headers.authorization ?? "";
  if (header.startsWith("Bearer ")) return header.slice(7);
  return url.searchParams.get("_token");
}

/** `/t/<tag>/pipeline` -> { tag, path: "/pipeline" }. */
export function splitTag(pathname) {
  const match = /^\/t\/([A-Za-z0-9_-]+)(\/.*)?$/.exec(pathname);
  return match ? { tag: match[1], path: match[2] ?? "/" } : { tag: "", path: pathname };
}

export function kindOf(path) {
  if (path === "/pipeline") return "pipeline";
  if (path === "/multi-exec") return "multiExec";
  return "single";
}

/** Run the request against Redis and produce [status, body, commands run, their names (lower case)]. */
export async function execute(redis, translate, path, method, body, base64) {
  if (path === "/pipeline" || path === "/multi-exec") {
    const list = parseJson(body);
    if (!Array.isArray(list) || list.length === 0) throw new BridgeError(400, "ERR failed to parse pipeline request");
    const prepared = list.map((c) => translate(command(c)));
    const commands = prepared.map((p) => p.args);
    const back = (replies) => replies.map((r, i) => entry(prepared[i]?.reply(r) ?? r, base64));
    const names = commands.map((c) => c[0].toLowerCase());
    if (path === "/pipeline") return [200, back(await redis.send(commands)), commands.length, names];
    const replies = await redis.send([["MULTI"], ...commands, ["EXEC"]]);
    const exec = replies[replies.length - 1];
    if (exec instanceof RedisReplyError) return [400, { error: exec.message }, commands.length, names];
    if (!Array.isArray(exec)) return [400, { error: "EXECABORT Transaction discarded" }, commands.length, names];
    return [200, back(exec), commands.length, names];
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
  const names = [args[0].toLowerCase()];
  if (reply instanceof RedisReplyError) return [400, { error: reply.message }, 1, names];
  return [200, { result: toJson(reply, base64) }, 1, names];
}
