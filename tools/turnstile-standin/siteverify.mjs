// Siteverify as Cloudflare documents it (developers.cloudflare.com/turnstile/
// get-started/server-side-validation/ and /troubleshooting/testing/), for offline use:
//
// - form or JSON POST of `secret`, `response`, `remoteip`, `idempotency_key`;
// - replies `{success, "error-codes", challenge_ts, hostname, action, cdata, metadata}`;
// - error codes: missing-input-secret, invalid-input-secret, missing-input-response,
//   invalid-input-response, bad-request, timeout-or-duplicate, internal-error;
// - a token validates once (then timeout-or-duplicate), and not after 300 s; a retry
//   with the same idempotency_key gets the first answer again;
// - the dummy secrets: 1x…AA always passes, 2x…AA always fails, 3x…AA "token already
//   spent". (What Cloudflare echoes as hostname for a dummy pass is not documented; the
//   stand-in echoes the token's own data when it minted the token, else example.com.)
//
// Tokens are minted by the stand-in's widget (or a test) and carry the sitekey,
// hostname, action and cdata they were solved with, like real ones.

export const DUMMY_SECRETS = {
  pass: "1x0000000000000000000000000000000AA",
  fail: "2x0000000000000000000000000000000AA",
  spent: "3x0000000000000000000000000000000AA",
};
export const TOKEN_TTL_MS = 300_000;
const MAX_TOKEN = 2048;

/** Parse a siteverify body: form-urlencoded or JSON; null when it is neither. */
export function parseVerifyBody(contentType, text) {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") {
    try {
      const json = JSON.parse(text);
      return typeof json === "object" && json !== null ? json : null;
    } catch {
      return null;
    }
  }
  if (type === "application/x-www-form-urlencoded" || type === "") return Object.fromEntries(new URLSearchParams(text));
  return null;
}

const failure = (...codes) => ({ success: false, "error-codes": codes, messages: [] });

function successFor(token, now) {
  return {
    success: true,
    "error-codes": [],
    challenge_ts: new Date(token?.ts ?? now).toISOString(),
    hostname: token?.hostname ?? "example.com",
    action: token?.action ?? "",
    cdata: token?.cdata ?? "",
    metadata: { interactive: false },
  };
}

/**
 * Decide one siteverify call. `state` holds `tokens` (token → record), `secrets`
 * (secret → sitekey) and `answers` (idempotency key + token → earlier answer).
 * Returns `{ reply }`, or `{ fault }` for a token minted with a fault to play.
 */
export function verify(state, params, now) {
  if (params === null) return { reply: failure("bad-request") };
  const secret = typeof params.secret === "string" ? params.secret : "";
  const response = typeof params.response === "string" ? params.response : "";
  if (secret === "") return { reply: failure("missing-input-secret") };
  if (response === "") return { reply: failure("missing-input-response") };
  const token = state.tokens.get(response);
  if (secret === DUMMY_SECRETS.pass) return { reply: successFor(token, now) };
  if (secret === DUMMY_SECRETS.fail) return { reply: failure("invalid-input-response") };
  if (secret === DUMMY_SECRETS.spent) return { reply: failure("timeout-or-duplicate") };
  const siteKey = state.secrets.get(secret);
  if (siteKey === undefined) return { reply: failure("invalid-input-secret") };
  if (response.length > MAX_TOKEN || token === undefined || token.sitekey !== siteKey) return { reply: failure("invalid-input-response") };
  const key = typeof params.idempotency_key === "string" && params.idempotency_key !== "" ? `${params.idempotency_key}\u0000${response}` : null;
  const earlier = key === null ? undefined : state.answers.get(key);
  if (earlier !== undefined) return { reply: earlier };
  if (token.fault !== null && token.fault !== undefined) {
    const fault = token.fault;
    // internal-error-once: the first call fails, a retry (with or without a key) is answered normally.
    if (fault === "internal-error-once") token.fault = null;
    return { fault };
  }
  const reply = token.used || now - token.ts > TOKEN_TTL_MS ? failure("timeout-or-duplicate") : successFor(token, now);
  token.used = true;
  if (key !== null) state.answers.set(key, reply);
  return { reply };
}
