// npm start: the demo origin on 127.0.0.1:8788 and riskgate (wrangler dev, embedded
// Durable Object store, shipped rules) on 127.0.0.1:8787 in front of it.
// ORIGIN_URL=http://... puts riskgate in front of another origin; PORT moves the gateway.
// CAPTCHAs: Cloudflare is unreachable offline, so siteverify and the widget script come
// from the local Turnstile stand-in on 127.0.0.1:8789 (TURNSTILE_STANDIN_PORT), with
// Cloudflare's dummy keys; set SITEVERIFY_URL (and keys) to use a real provider instead.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { startDemoOrigin } from "./demo-origin.mjs";
import { startTurnstileStandin } from "./turnstile-standin/server.mjs";

const port = Number(process.env.PORT ?? "8787");
const gateway = `http://127.0.0.1:${port}`;
let originUrl = process.env.ORIGIN_URL;
let demo = null;
if (!originUrl) {
  demo = await startDemoOrigin({ port: 8788, jwksUrl: `${gateway}/.well-known/jwks.json` });
  originUrl = demo.url;
}

let standin = null;
if (!process.env.SITEVERIFY_URL) {
  const standinPort = Number(process.env.TURNSTILE_STANDIN_PORT ?? "8789");
  try {
    standin = await startTurnstileStandin({ port: standinPort });
  } catch (err) {
    console.error(`npm start: the Turnstile stand-in could not listen on 127.0.0.1:${standinPort} (${err.message}); set TURNSTILE_STANDIN_PORT`);
    await demo?.close();
    process.exit(1);
  }
  process.env.SITEVERIFY_URL = standin.siteverifyUrl;
  process.env.CAPTCHA_SCRIPT_URL ??= standin.scriptUrl;
}

const args = [
  "wrangler", "dev",
  "--ip", "127.0.0.1", "--port", String(port),
  "--var", "RISKGATE_ENV:development",
  "--var", `ORIGIN_URL:${originUrl}`,
  "--var", `STORE:${process.env.STORE ?? "durable-object"}`,
  "--show-interactive-dev-session=false",
];
// STORE=upstash with no credentials given: use the local Redis `npm run redis` started.
if (process.env.STORE === "upstash" && !process.env.UPSTASH_REDIS_REST_URL && existsSync(".wrangler/riskgate-redis.json")) {
  const local = JSON.parse(readFileSync(".wrangler/riskgate-redis.json", "utf8"));
  process.env.UPSTASH_REDIS_REST_URL = local.url;
  process.env.UPSTASH_REDIS_REST_TOKEN = local.token;
}
const passed = [
  "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN",
  "CAPTCHA_PROVIDER", "TURNSTILE_SITE_KEY", "TURNSTILE_SECRET_KEY", "CAPTCHA_SITE_KEY", "CAPTCHA_SECRET_KEY",
  "SITEVERIFY_URL", "CAPTCHA_SCRIPT_URL", "CAPTCHA_HOSTNAMES", "CAPTCHA_PASS_SECRET",
];
for (const name of passed) {
  if (process.env[name]) args.push("--var", `${name}:${process.env[name]}`);
}
const child = spawn("npx", args, {
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_SEND_METRICS: "false" },
});
let announced = false;
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  if (!announced && String(chunk).includes("Ready on")) {
    announced = true;
    console.log(`
riskgate is running
  gateway  ${gateway}
  origin   ${originUrl}${demo ? " (demo origin)" : ""}
  jwks     ${gateway}/.well-known/jwks.json
  captcha  ${standin ? `local Turnstile stand-in ${standin.url} (Cloudflare's dummy keys)` : process.env.SITEVERIFY_URL}

try it:
  curl -i -X POST ${gateway}/password/reset -H 'content-type: application/json' -d '{"email":"a@example.com"}'
`);
  }
});
const stop = () => {
  child.kill("SIGTERM");
  demo?.close();
  standin?.close();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
child.on("exit", (code) => {
  demo?.close();
  standin?.close();
  process.exit(code ?? 0);
});
