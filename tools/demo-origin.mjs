// A demo password-reset backend that trusts only requests carrying a valid
// Riskgate-Decision. It is the "origin" npm start puts riskgate in front of, and the
// reference for the few lines a real origin needs (README, "Origin integration").
//
//   node tools/demo-origin.mjs [--port 8788] [--jwks-url http://127.0.0.1:8787/.well-known/jwks.json]
import { createServer } from "node:http";
import { createLocalJWKSet, createRemoteJWKSet, importJWK, jwtVerify, SignJWT } from "jose";

/**
 * The development origin key that signs outcome reports (POST /v1/outcomes). Its public
 * half is riskgate's default OUTCOME_VERIFY_KEYS in development; a copy of
 * DEV_OUTCOME_SIGNING_KEY in src/outcomes/keys.ts (a unit test keeps them equal).
 * Public on purpose: production refuses it.
 */
export const DEV_OUTCOME_KEY = {
  kty: "EC",
  crv: "P-256",
  x: "yn4RqySx5AXGnLdDvBEgbYOjzhQ9tH-ZYiMG5fYSj9o",
  y: "5b91QaRUTahSuPOiu1S98GryIC7xOuohqeC0nSdSotQ",
  d: "ar59Vzo1zBsGwnZC5otf7UH7EHSORTCQ_ye7DQKeuk8",
  kid: "dev-origin-2026-1",
  alg: "ES256",
};

/**
 * Sign an outcome report the way an origin must: a JWS with typ riskgate-outcome+jwt,
 * aud "riskgate", a unique jti (the event id), the event, and the Riskgate-Decision token
 * received with the reset, echoed unchanged.
 * @param {{ event: string, decisionToken: string, decisionId: string, eventId?: string, key?: object, extra?: object }} report
 */
export async function signOutcome({ event, decisionToken, decisionId, eventId = crypto.randomUUID(), key = DEV_OUTCOME_KEY, extra = {} }) {
  // `extra`: optional send details (channel, cost, country: docs/experiments.md) and the
  // account's privileged tag (docs/outcomes.md).
  return new SignJWT({ ...extra, event, decision_id: decisionId, decision: decisionToken })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "riskgate-outcome+jwt" })
    .setAudience("riskgate")
    .setJti(eventId)
    .setIssuedAt()
    .sign(await importJWK(key, key.alg));
}

/**
 * Sign an account roster statement as an origin does (POST /v1/accounts, docs/accounts.md):
 * raw addresses to add and remove, and `loaded` (true: the roster is complete, turn it on;
 * false: off). The gateway HMACs the addresses on arrival.
 * @param {{ add?: string[], remove?: string[], loaded?: boolean, key?: object }} statement
 */
export async function signAccounts({ add, remove, loaded, key = DEV_OUTCOME_KEY }) {
  return new SignJWT({ ...(add ? { add } : {}), ...(remove ? { remove } : {}), ...(loaded === undefined ? {} : { loaded }) })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "riskgate-accounts+jwt" })
    .setAudience("riskgate")
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .sign(await importJWK(key, key.alg));
}

/**
 * Publish the accounts an origin holds to the gateway: a bulk load in batches of 5,000,
 * then the marker that turns the roster on. Each statement is retried (a loaded store may
 * answer 503; statements are idempotent). Resolves to the gateway's last answer.
 * @param {string} gatewayUrl
 * @param {string[]} emails
 * @param {{ loaded?: boolean, batch?: number }} [options]
 */
export async function publishAccounts(gatewayUrl, emails, { loaded = true, batch = 5000 } = {}) {
  const post = async (statement) => {
    let last = "";
    for (let attempt = 0; attempt < 5; attempt++) {
      const res = await fetch(`${gatewayUrl}/v1/accounts`, { method: "POST", headers: { "content-type": "application/jwt" }, body: await signAccounts(statement) }).catch((err) => err);
      if (res instanceof Response && res.ok) return res.json();
      last = res instanceof Response ? `${res.status} ${await res.text()}` : String(res);
      if (res instanceof Response && res.status < 500) break;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    }
    throw new Error(`account roster statement refused: ${last}`);
  };
  let answer = null;
  for (let i = 0; i < emails.length; i += batch) answer = await post({ add: emails.slice(i, i + batch) });
  if (loaded) answer = await post({ loaded: true });
  return answer;
}

/**
 * Start the demo origin on 127.0.0.1.
 * @param {{ port?: number, jwks?: { keys: object[] }, jwksUrl?: string, quiet?: boolean }} options
 * @returns {Promise<{ url: string, received: object[], close: () => Promise<void> }>}
 */
export async function startDemoOrigin({ port = 8788, jwks, jwksUrl, gatewayUrl, quiet = false } = {}) {
  // Where outcome reports go: the gateway that published the JWKS, unless told otherwise.
  const gateway = gatewayUrl ?? (jwksUrl ? new URL(jwksUrl).origin : null);
  const keySet = jwks ? createLocalJWKSet(jwks) : createRemoteJWKSet(new URL(jwksUrl));
  const received = [];
  const seen = new Set();
  // Test affordances: accounts (raw email, lower case) the origin is slow for, in ms, as a
  // real backend that looks the account up is slower when it exists (docs/architecture.md,
  // "Why the reset answers before the origin"); and failures counted per decision id.
  const slowAccounts = new Map();
  const failures = new Map();
  let audience = "";
  const server = createServer((req, res) => {
    // A client that gives up (the gateway's timeout) aborts the request: not an error here.
    handle(req, res).catch(() => res.destroy());
  });
  async function handle(req, res) {
    const send = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.url === "/__demo/received") return send(200, { received });
    // `?since=N`: only what arrived after the first N (the traffic generator polls this way).
    const since = /^\/__demo\/received\?since=(\d+)$/.exec(req.url ?? "");
    if (since) return send(200, { received: received.slice(Number(since[1])), total: received.length });
    if (req.url === "/__demo/outcome" && req.method === "POST") {
      // Demo of the outcome call: {"decision": "<jti>", "event": "verified"} reports what
      // became of a reset this origin received, so riskgate's history learns the device.
      // `"privileged": true|false` also tags (or untags) the account (docs/outcomes.md).
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      let ask;
      try {
        ask = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      } catch {
        return send(400, { error: "expected JSON {decision, event}" });
      }
      const record = received.find((r) => r.accepted && r.claims?.jti === ask.decision) ?? received.filter((r) => r.accepted).at(-1);
      if (!record || !gateway) return send(404, { error: "no such decision received (or no gateway URL)" });
      const extra = typeof ask.privileged === "boolean" ? { privileged: ask.privileged } : {};
      const body = await signOutcome({ event: ask.event ?? "verified", decisionToken: record.headers["riskgate-decision"], decisionId: record.claims.jti, extra });
      const res = await fetch(`${gateway}/v1/outcomes`, {
        method: "POST",
        headers: { "content-type": "application/jwt" },
        body,
        signal: AbortSignal.timeout(5000),
      });
      return send(res.status, await res.json());
    }
    // Test affordance: `x-demo-delay-ms` makes the origin slow, to exercise timeouts.
    const delay = Math.min(Number(req.headers["x-demo-delay-ms"] ?? 0) || 0, 10_000);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString("utf8");
    const accountDelay = slowAccounts.get(emailOf(body)) ?? 0;
    if (accountDelay > 0) await new Promise((resolve) => setTimeout(resolve, accountDelay));
    // The idempotency key riskgate sends with every attempt of one decision.
    const decisionId = req.headers["riskgate-decision-id"];
    // Test affordance: `x-demo-fail-first: N` answers 503 to the first N attempts of a decision.
    const failFirst = Number(req.headers["x-demo-fail-first"] ?? 0) || 0;
    if (failFirst > 0 && typeof decisionId === "string") {
      const failed = failures.get(decisionId) ?? 0;
      if (failed < failFirst) {
        failures.set(decisionId, failed + 1);
        received.push({ path: req.url, accepted: false, status: 503, error: "demo failure", headers: req.headers });
        return send(503, { error: "temporarily unavailable" });
      }
    }
    const token = req.headers["riskgate-decision"];
    if (typeof token !== "string") {
      received.push({ path: req.url, accepted: false, error: "missing Riskgate-Decision" });
      return send(401, { error: "request did not pass the gateway" });
    }
    try {
      // The four checks every origin needs: signature (JWKS), issuer, audience, expiry.
      const { payload } = await jwtVerify(token, keySet, {
        issuer: "riskgate",
        audience,
        algorithms: ["ES256", "EdDSA"],
        maxTokenAge: "60s",
      });
      // And one more: a decision starts one reset (jti, also sent as Riskgate-Decision-Id).
      // riskgate retries a forward whose answer it did not get; the retry carries the same
      // decision id, so it is answered as done, not started again.
      if (seen.has(payload.jti)) {
        received.push({ path: req.url, accepted: false, duplicate: true, error: "decision replayed", headers: req.headers });
        return send(200, { status: "reset already started" });
      }
      seen.add(payload.jti);
      received.push({ path: req.url, accepted: true, claims: payload, bodyBytes: body.length, headers: req.headers });
      if (!quiet) console.log(`[demo-origin] ${req.method} ${req.url} verdict=${payload.verdict} tier=${payload.tier} channel=${payload.channel}`);
      return send(200, { status: "reset started", channel: payload.channel });
    } catch (err) {
      received.push({ path: req.url, accepted: false, error: String(err?.code ?? err?.message ?? err) });
      return send(401, { error: "invalid Riskgate-Decision" });
    }
  }
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const actual = server.address().port;
  audience = `http://127.0.0.1:${actual}`;
  return {
    url: audience,
    received,
    slowAccounts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The `email` field of a JSON reset body, lower case ("" when there is none). */
function emailOf(body) {
  try {
    const email = JSON.parse(body)?.email;
    return typeof email === "string" ? email.trim().toLowerCase() : "";
  } catch {
    return "";
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const origin = await startDemoOrigin({
    port: Number(arg("port", "8788")),
    jwksUrl: arg("jwks-url", "http://127.0.0.1:8787/.well-known/jwks.json"),
  });
  console.log(`[demo-origin] listening on ${origin.url}`);
}
