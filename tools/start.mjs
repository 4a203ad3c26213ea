// npm start: the demo origin and riskgate (wrangler dev, embedded Durable Object store,
// shipped rules) in front of it, all on 127.0.0.1. Every port moves with an environment
// variable (README, "Ports"):
//   PORT (8787)                    the gateway
//   DEMO_ORIGIN_PORT (8788)        the demo origin; ORIGIN_URL=http://... replaces it
//   TURNSTILE_STANDIN_PORT (8789)  the local CAPTCHA stand-in; SITEVERIFY_URL replaces it
//   INSPECTOR_PORT (9229)          wrangler's devtools inspector (unset and busy: any free port)
// A busy port stops npm start at once, naming the variable that moves it.
// Configuration (docs/configuration.md): every variable in the table, from the shell or
// from .dev.vars (the shell wins), goes to the Worker; npm start's own defaults
// (RISKGATE_ENV=development, the demo origin, the stand-in) apply only to what neither sets.
// CAPTCHAs: Cloudflare is unreachable offline, so siteverify and the widget script come
// from the local Turnstile stand-in, with Cloudflare's dummy keys.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv, stripVTControlCharacters } from "node:util";
import { startDemoOrigin } from "./demo-origin.mjs";
import { freePort, startGateway } from "./gateway.mjs";
import { startListSourcesStandin } from "./list-sources-standin.mjs";
import { startTurnstileStandin } from "./turnstile-standin/server.mjs";

/** The documented development admin token (src/admin/config.ts); production refuses it. */
const DEV_ADMIN_TOKEN = "riskgate-dev-admin-token";

/** Every Worker variable and secret of docs/configuration.md and the README's table. */
const WORKER_VARS = [
  "ORIGIN_URL", "RISKGATE_ENV", "ACCOUNT_HMAC_SECRET", "DECISION_SIGNING_KEYS", "OUTCOME_VERIFY_KEYS",
  "TRUSTED_IP_HEADER", "STORE", "STORE_SHARDS", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "GEO_SOURCE",
  "ADMIN_TOKEN", "ACCESS_TEAM_DOMAIN", "ACCESS_AUD", "AUDIT_FORMAT", "AUDIT_WEBHOOK_URL", "AUDIT_WEBHOOK_SECRET",
  "AUDIT_WEBHOOK_TIMEOUT_MS", "AUDIT_WEBHOOK_BATCH", "CAPTCHA_PROVIDER", "TURNSTILE_SITE_KEY", "TURNSTILE_SECRET_KEY",
  "CAPTCHA_SITE_KEY", "CAPTCHA_SECRET_KEY", "SITEVERIFY_URL", "CAPTCHA_SCRIPT_URL", "CAPTCHA_HOSTNAMES",
  "CAPTCHA_PASS_SECRET", "LIST_SOURCES_URL",
];

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function portFrom(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${name}=${raw} is not a TCP port (1 to 65535)`);
  return port;
}

/** Resolves to null when 127.0.0.1:port is free, else the error code (EADDRINUSE, EACCES). */
function probe(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (err) => resolve(err.code ?? err.message));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(null)));
  });
}

// .dev.vars (wrangler's local secrets file), then the shell on top.
const devVars = existsSync(".dev.vars") ? parseEnv(readFileSync(".dev.vars", "utf8")) : {};
const config = {};
for (const name of WORKER_VARS) {
  const value = process.env[name] ?? devVars[name];
  if (value !== undefined && value !== "") config[name] = value;
}
// Anything else in .dev.vars still reaches the Worker, as with plain `wrangler dev`.
for (const [name, value] of Object.entries(devVars)) config[name] ??= value;

const port = portFrom("PORT", 8787);
const originPort = portFrom("DEMO_ORIGIN_PORT", 8788);
const standinPort = portFrom("TURNSTILE_STANDIN_PORT", 8789);
const explicitInspector = process.env.INSPECTOR_PORT !== undefined && process.env.INSPECTOR_PORT !== "";
let inspectorPort = portFrom("INSPECTOR_PORT", 9229);
const gateway = `http://127.0.0.1:${port}`;
const needDemo = config.ORIGIN_URL === undefined;
const needStandin = config.SITEVERIFY_URL === undefined;

// Check every port before building anything: a busy one fails now, not after the build.
const wanted = [["PORT", port, "the gateway"]];
if (needDemo) wanted.push(["DEMO_ORIGIN_PORT", originPort, "the demo origin"]);
if (needStandin) wanted.push(["TURNSTILE_STANDIN_PORT", standinPort, "the Turnstile stand-in"]);
const seen = new Map();
for (const [name, p] of wanted) {
  if (seen.has(p)) fail(`${name} and ${seen.get(p)} are both ${p}; give each its own port`);
  seen.set(p, name);
}
for (const [name, p, what] of wanted) {
  const code = await probe(p);
  if (code !== null) {
    fail(`127.0.0.1:${p} (${what}) is ${code === "EADDRINUSE" ? "already in use" : `unavailable (${code})`}; stop what listens there or move it with ${name}=<port>`);
  }
}
if ((await probe(inspectorPort)) !== null || seen.has(inspectorPort)) {
  if (explicitInspector) fail(`127.0.0.1:${inspectorPort} (the devtools inspector) is already in use; move it with INSPECTOR_PORT=<port>`);
  inspectorPort = await freePort();
}

let demo = null;
let standin = null;
let listSources = null;
let envDir = null;
const cleanUp = async () => {
  await demo?.close();
  await standin?.close();
  await listSources?.close();
  if (envDir !== null) rmSync(envDir, { recursive: true, force: true });
};

if (needDemo) {
  try {
    demo = await startDemoOrigin({ port: originPort, jwksUrl: `${gateway}/.well-known/jwks.json` });
  } catch (err) {
    fail(`the demo origin could not listen on 127.0.0.1:${originPort} (${err.message}); set DEMO_ORIGIN_PORT`);
  }
  config.ORIGIN_URL = demo.url;
}
if (needStandin) {
  try {
    standin = await startTurnstileStandin({ port: standinPort });
  } catch (err) {
    await cleanUp();
    fail(`the Turnstile stand-in could not listen on 127.0.0.1:${standinPort} (${err.message}); set TURNSTILE_STANDIN_PORT`);
  }
  config.SITEVERIFY_URL = standin.siteverifyUrl;
  config.CAPTCHA_SCRIPT_URL ??= standin.scriptUrl;
}

// The live list sources (rules/lists/sources.yaml) from local files in tools/list-sources/,
// so the Cron Trigger's refresh runs offline (`curl <gateway>/__scheduled`).
if (config.LIST_SOURCES_URL === undefined) {
  listSources = await startListSourcesStandin({ dir: join(import.meta.dirname, "list-sources"), quiet: true });
  config.LIST_SOURCES_URL = listSources.url;
}

// STORE=upstash with no credentials given: use the local Redis `npm run redis` started.
if (config.STORE === "upstash" && !config.UPSTASH_REDIS_REST_URL && existsSync(".wrangler/riskgate-redis.json")) {
  const local = JSON.parse(readFileSync(".wrangler/riskgate-redis.json", "utf8"));
  config.UPSTASH_REDIS_REST_URL = local.url;
  config.UPSTASH_REDIS_REST_TOKEN = local.token;
}
config.RISKGATE_ENV ??= "development";
config.STORE ??= "durable-object";
const adminToken = config.ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;

// The values go to wrangler in a private env file, not as --var arguments: keys and tokens
// stay out of `ps`. (Given --env-file, wrangler reads no .dev.vars: it is merged above.)
envDir = mkdtempSync(join(tmpdir(), "riskgate-start-"));
const envFile = join(envDir, "worker.env");
const quote = (value) => JSON.stringify(String(value));
writeFileSync(envFile, Object.entries(config).map(([name, value]) => `${name}=${quote(value)}\n`).join(""), { mode: 0o600 });
chmodSync(envFile, 0o600);

// wrangler's output without the build's noise: blank "[custom build]" lines, the command
// line, and the check its file watcher runs when it starts (the build is up to date then).
const NOISE = [/^\[custom build\]\s*$/, /^\[custom build\] Running: /, /^\[custom build\] build: up to date$/, /^The file [^ ]+ changed, restarting build\.\.\.$/];
let partial = "";
const onOutput = (text) => {
  const lines = (partial + text).split("\n");
  partial = lines.pop() ?? "";
  const kept = lines.filter((line) => !NOISE.some((re) => re.test(stripVTControlCharacters(line))));
  if (kept.length > 0) process.stdout.write(`${kept.join("\n")}\n`);
};

let running = null;
const starting = new AbortController();
const stop = async () => {
  if (running === null) {
    // Still building: end wrangler (and workerd) before leaving.
    starting.abort();
    return;
  }
  await running.stop();
  await cleanUp();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
try {
  running = await startGateway({ port, vars: {}, envFile, inspectorPort, onOutput, signal: starting.signal, testScheduled: true });
} catch (err) {
  await cleanUp();
  if (starting.signal.aborted) process.exit(130);
  fail(String(err.message ?? err));
}
const gatewayFlag = port === 8787 ? "" : ` --gateway ${gateway}`;
const originFlag = demo && originPort !== 8788 ? ` --origin ${demo.url}` : "";
console.log(`
riskgate is running
  gateway    ${gateway}
  origin     ${config.ORIGIN_URL}${demo ? " (demo origin)" : ""}
  jwks       ${gateway}/.well-known/jwks.json
  dashboard  ${gateway}/__riskgate/   (${config.ADMIN_TOKEN ? `admin token: ADMIN_TOKEN from ${process.env.ADMIN_TOKEN ? "your shell" : ".dev.vars"}` : `development admin token: ${adminToken}`})
  metrics    curl -H 'authorization: Bearer ${config.ADMIN_TOKEN ? "<ADMIN_TOKEN>" : adminToken}' ${gateway}/__riskgate/metrics
  captcha    ${standin ? `local Turnstile stand-in ${standin.url} (Cloudflare's dummy keys)` : config.SITEVERIFY_URL}
  inspector  127.0.0.1:${inspectorPort} (chrome://inspect)
  lists      curl ${gateway}/__scheduled   # run the list refresh (Cron Trigger) now; sources: ${listSources ? `local files in tools/list-sources/ (${listSources.url})` : config.LIST_SOURCES_URL}

try it:
  curl -i -X POST ${gateway}/password/reset -H 'content-type: application/json' -d '{"email":"a@example.com"}'
  node tools/simulate-attack.mjs${gatewayFlag}        # an enumeration attack; watch the dashboard
  node tools/traffic.mjs${gatewayFlag}${originFlag}   # realistic users and outcomes (npm run traffic)
`);

running.exited.then(async (code) => {
  await cleanUp();
  process.exit(code ?? 0);
});
