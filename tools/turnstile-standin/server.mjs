// A local stand-in for Cloudflare Turnstile: the widget script, a token endpoint the
// widget calls, and siteverify with Turnstile's documented responses (siteverify.mjs).
// Turnstile cannot run offline, so tests and `npm start` point riskgate's
// SITEVERIFY_URL and CAPTCHA_SCRIPT_URL here. Loopback only.
//
//   GET  /turnstile/v0/api.js       the widget script (widget.js)
//   POST /turnstile/v0/siteverify   siteverify
//   POST /token                     mint a token (the widget; JSON {sitekey, action, cdata, hostname})
//   POST /__standin/mint            mint with test extras: {…, ts, fault: internal-error-once|hang|http500|garbage}
//   GET  /__standin/calls           siteverify calls so far (tests check remoteip, idempotency keys)
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseVerifyBody, verify } from "./siteverify.mjs";

const WIDGET = readFileSync(new URL("./widget.js", import.meta.url), "utf8");
const FAULTS = new Set(["internal-error-once", "hang", "http500", "garbage"]);
const MAX_BODY = 16_384;

/**
 * Start the stand-in on 127.0.0.1.
 * @param {{ port?: number, sites?: { siteKey: string, secret: string }[], hangLimitMs?: number, log?: (line: string) => void }} options
 */
export async function startTurnstileStandin({ port = 0, sites = [], hangLimitMs = 10_000, log } = {}) {
  const state = { tokens: new Map(), secrets: new Map(sites.map((s) => [s.secret, s.siteKey])), answers: new Map() };
  const calls = [];
  const hanging = new Set();
  let base = "";
  const send = (res, status, body, headers = {}) => {
    // The widget calls /token from the challenge page's origin: allow it (and whatever headers it sends).
    const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": res.req.headers["access-control-request-headers"] ?? "content-type" };
    res.writeHead(status, { "content-type": "application/json", ...cors, ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };

  function mint(body, extras) {
    if (typeof body?.sitekey !== "string" || /^2x0+(AB|BB)$/.test(body.sitekey)) return null;
    const token = `standin.${randomBytes(24).toString("base64url")}`;
    const fault = extras && FAULTS.has(body.fault) ? body.fault : null;
    const ts = extras && Number.isFinite(body.ts) ? body.ts : Date.now();
    const str = (v) => (typeof v === "string" ? v : "");
    state.tokens.set(token, { sitekey: body.sitekey, action: str(body.action), cdata: str(body.cdata), hostname: str(body.hostname), ts, fault, used: false });
    return token;
  }

  async function siteverify(req, res, text) {
    const params = parseVerifyBody(req.headers["content-type"], text);
    const outcome = verify(state, params, Date.now());
    const call = { response: params?.response ?? null, remoteip: params?.remoteip ?? null, idempotency_key: params?.idempotency_key ?? null, outcome: outcome.fault ?? (outcome.reply.success ? "success" : outcome.reply["error-codes"].join(",")) };
    calls.push(call);
    log?.(`siteverify ${call.outcome}`);
    if (outcome.fault === "hang") {
      // Never answered; cut after hangLimitMs so nothing outlives the tests.
      hanging.add(res);
      setTimeout(() => res.destroy(), hangLimitMs).unref();
      return;
    }
    if (outcome.fault === "http500") return send(res, 500, "upstream error", { "content-type": "text/plain" });
    if (outcome.fault === "garbage") return send(res, 200, "<html>not json</html>", { "content-type": "text/html" });
    if (outcome.fault === "internal-error-once") return send(res, 200, { success: false, "error-codes": ["internal-error"], messages: [] });
    return send(res, 200, outcome.reply);
  }

  async function handle(req, res) {
    const path = new URL(req.url ?? "/", "http://standin").pathname;
    if (req.method === "OPTIONS") return send(res, 204, "");
    if (req.method === "GET" && path === "/turnstile/v0/api.js") {
      return send(res, 200, WIDGET.replace("__STANDIN_BASE__", base), { "content-type": "application/javascript; charset=utf-8", "cache-control": "no-store" });
    }
    if (req.method === "GET" && path === "/__standin/calls") return send(res, 200, { calls });
    if (req.method !== "POST") return send(res, 404, { error: "not found" });
    let text = "";
    for await (const chunk of req) {
      text += chunk;
      if (text.length > MAX_BODY) return send(res, 413, { error: "too large" });
    }
    if (path === "/turnstile/v0/siteverify") return siteverify(req, res, text);
    if (path === "/token" || path === "/__standin/mint") {
      let body = null;
      try {
        body = JSON.parse(text);
      } catch {}
      const token = mint(body, path === "/__standin/mint");
      return token === null ? send(res, 400, { error: "sitekey refused" }) : send(res, 200, { token });
    }
    return send(res, 404, { error: "not found" });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: base,
    siteverifyUrl: `${base}/turnstile/v0/siteverify`,
    scriptUrl: `${base}/turnstile/v0/api.js`,
    calls,
    mint: (options) => mint(options, true),
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
