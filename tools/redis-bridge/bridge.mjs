// An Upstash-REST bridge in front of a real redis-server, so the Upstash adapter runs
// locally and in tests against real Redis semantics (Lua, HyperLogLog, TTLs).
//
// Protocol (as the Upstash REST API documents it and @upstash/redis speaks it; rest.mjs):
//   POST /             body ["SET","k","v"]           -> {"result": ...} | 400 {"error": "..."}
//   POST /pipeline     body [["INCR","k"],["GET","k"]] -> [{"result": ...} | {"error": "..."}, ...]
//   POST /multi-exec   body like /pipeline, run inside MULTI/EXEC
//   POST|GET /set/k/v  path-style single command (handy with curl)
//   Authorization: Bearer <token> (or ?_token=), else 401 {"error": "Unauthorized"}
//   Upstash-Encoding: base64 -> every string in a result is base64; numbers and null are not
//
// Test-only extras, on a separate control port (so they work while the main port refuses):
//   POST /fault {"mode": "none|refuse|reset|hang|stall|error500|garbage"}
//   (hang: no answer at all; stall: headers and the first bytes of a 200, then nothing)
//   GET /stats[?tag=x]  POST /stats/reset   (requests, commands, commands by name, ...)
// A base URL may carry a tag, http://127.0.0.1:PORT/t/<tag>, so parallel test files count
// their own round trips.
import { createServer } from "node:http";
import { RedisConnection } from "./resp.mjs";
import {
  BridgeError,
  execute,
  givenToken,
  kindOf,
  parseJson,
  readBody,
  scriptTranslator,
  splitTag,
  tokenMatches,
} from "./rest.mjs";

export const FAULT_MODES = ["none", "refuse", "reset", "hang", "stall", "error500", "garbage"];

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

function closeServer(server) {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Per-tag counters; tag "" is the total. */
function statsBook() {
  const empty = () => ({ requests: 0, single: 0, pipeline: 0, multiExec: 0, commands: 0, connections: 0, resets: 0, byCommand: {} });
  const book = new Map();
  const get = (tag) => {
    let s = book.get(tag);
    if (s === undefined) {
      s = empty();
      book.set(tag, s);
    }
    return s;
  };
  return {
    get,
    count(tag, field, n = 1) {
      get(tag)[field] += n;
      if (tag !== "") get("")[field] += n;
    },
    /** Commands by name (lower case), e.g. to tell a request's EVALSHA from a periodic HGETALL. */
    countCommands(tag, names) {
      for (const s of tag === "" ? [get("")] : [get(tag), get("")]) {
        for (const name of names) s.byCommand[name] = (s.byCommand[name] ?? 0) + 1;
      }
    },
    clear: () => book.clear(),
  };
}

/** Requests held open in "hang" mode; each is cut after `limitMs` at the latest. */
function hangList(limitMs) {
  const held = new Map();
  const release = (res) => {
    clearTimeout(held.get(res));
    held.delete(res);
    res.destroy();
  };
  return {
    hold: (res) => held.set(res, setTimeout(() => release(res), limitMs)),
    releaseAll: () => [...held.keys()].forEach(release),
  };
}

/** The data-port handler: faults first, then auth, then the REST protocol. */
function dataHandler({ state, stats, hung, redis, translate, token, log }) {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://bridge");
    const { tag, path } = splitTag(url.pathname);
    stats.count(tag, "requests");
    stats.count(tag, kindOf(path));
    if (state.mode === "hang") return hung.hold(res);
    if (state.mode === "stall") {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"result":');
      return hung.hold(res);
    }
    if (state.mode === "reset") return req.socket.resetAndDestroy();
    if (state.mode === "error500") return send(res, 500, { error: "ERR bridge fault: internal server error" });
    if (state.mode === "garbage") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end("<html>\u0000not json{[");
    }
    try {
      if (!tokenMatches(token, givenToken(req, url))) throw new BridgeError(401, "Unauthorized");
      const body = await readBody(req);
      const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      const [status, result, commands, names] = await execute(redis, translate, path, req.method ?? "POST", body, base64);
      stats.count(tag, "commands", commands);
      stats.countCommands(tag, names);
      log?.(`${req.method} ${url.pathname} ${commands} command(s) -> ${status}`);
      send(res, status, result);
    } catch (err) {
      if (err instanceof BridgeError) return send(res, err.status, { error: err.message });
      // Redis itself is unreachable: what a REST gateway in front of a dead Redis answers.
      send(res, 502, { error: `ERR redis unavailable: ${err?.message ?? err}` });
    }
  };
}

/** The control-port handler: fault mode and statistics. */
function controlHandler({ state, stats, token, setFault }) {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://control");
    if (!tokenMatches(token, givenToken(req, url))) return send(res, 401, { error: "Unauthorized" });
    try {
      if (req.method === "GET" && url.pathname === "/stats") {
        return send(res, 200, { mode: state.mode, ...stats.get(url.searchParams.get("tag") ?? "") });
      }
      if (req.method === "POST" && url.pathname === "/stats/reset") {
        stats.clear();
        return send(res, 200, { ok: true });
      }
      if (req.method === "POST" && url.pathname === "/fault") {
        await setFault(parseJson(await readBody(req)).mode);
        return send(res, 200, { mode: state.mode });
      }
      send(res, 404, { error: "not found" });
    } catch (err) {
      send(res, 400, { error: String(err?.message ?? err) });
    }
  };
}

/**
 * Start the bridge on 127.0.0.1.
 * @param {{ redisPort: number, token: string, port?: number, controlPort?: number,
 *           hangLimitMs?: number, log?: (line: string) => void }} options
 */
export async function startBridge({ redisPort, token, port = 0, controlPort = 0, hangLimitMs = 10_000, log }) {
  if (typeof token !== "string" || token.length < 8) throw new Error("bridge token must be at least 8 characters");
  const redis = new RedisConnection({ port: redisPort });
  const state = { mode: "none", listening: true };
  const stats = statsBook();
  const hung = hangList(hangLimitMs);
  const server = createServer(dataHandler({ state, stats, hung, redis, translate: scriptTranslator(), token, log }));
  server.on("connection", (socket) => {
    stats.count("", "connections");
    if (state.mode !== "reset") return;
    // Counted: a connection reset before any request could be read is still an attempt.
    stats.count("", "resets");
    socket.resetAndDestroy();
  });
  const actualPort = await listen(server, port);

  async function setFault(next) {
    if (!FAULT_MODES.includes(next)) throw new Error(`unknown fault mode ${next}`);
    if ((state.mode === "hang" || state.mode === "stall") && next !== state.mode) hung.releaseAll();
    state.mode = next;
    if (next === "refuse" && state.listening) {
      state.listening = false;
      await closeServer(server);
    } else if (next !== "refuse" && !state.listening) {
      await listen(server, actualPort);
      state.listening = true;
    }
  }

  const control = createServer(controlHandler({ state, stats, token, setFault }));
  const actualControlPort = await listen(control, controlPort);
  return {
    url: `http://127.0.0.1:${actualPort}`,
    controlUrl: `http://127.0.0.1:${actualControlPort}`,
    token,
    setFault,
    stats: (tag = "") => ({ mode: state.mode, ...stats.get(tag) }),
    resetStats: () => stats.clear(),
    async close() {
      hung.releaseAll();
      redis.close();
      await Promise.all([closeServer(control), state.listening ? closeServer(server) : Promise.resolve()]);
    },
  };
}
