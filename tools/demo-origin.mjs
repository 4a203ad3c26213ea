// A demo password-reset backend that trusts only requests carrying a valid
// Riskgate-Decision. It is the "origin" npm start puts riskgate in front of, and the
// reference for the few lines a real origin needs (README, "Origin integration").
//
//   node tools/demo-origin.mjs [--port 8788] [--jwks-url http://127.0.0.1:8787/.well-known/jwks.json]
import { createServer } from "node:http";
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from "jose";

/**
 * Start the demo origin on 127.0.0.1.
 * @param {{ port?: number, jwks?: { keys: object[] }, jwksUrl?: string, quiet?: boolean }} options
 * @returns {Promise<{ url: string, received: object[], close: () => Promise<void> }>}
 */
export async function startDemoOrigin({ port = 8788, jwks, jwksUrl, quiet = false } = {}) {
  const keySet = jwks ? createLocalJWKSet(jwks) : createRemoteJWKSet(new URL(jwksUrl));
  const received = [];
  const seen = new Set();
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
    // Test affordance: `x-demo-delay-ms` makes the origin slow, to exercise timeouts.
    const delay = Math.min(Number(req.headers["x-demo-delay-ms"] ?? 0) || 0, 10_000);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString("utf8");
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
      // And one more: a decision is good for one request (jti).
      if (seen.has(payload.jti)) throw new Error("decision replayed");
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
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
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
