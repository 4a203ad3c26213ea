// npm start: the demo origin on 127.0.0.1:8788 and riskgate (wrangler dev, embedded
// Durable Object store, shipped rules) on 127.0.0.1:8787 in front of it.
// ORIGIN_URL=http://... puts riskgate in front of another origin; PORT moves the gateway.
import { existsSync, readFileSync } from "node:fs";
import { startDemoOrigin } from "./demo-origin.mjs";
import { startGateway } from "./gateway.mjs";

/** The documented development admin token (src/admin/config.ts); production refuses it. */
const DEV_ADMIN_TOKEN = "riskgate-dev-admin-token";

const port = Number(process.env.PORT ?? "8787");
const gateway = `http://127.0.0.1:${port}`;
let originUrl = process.env.ORIGIN_URL;
let demo = null;
if (!originUrl) {
  demo = await startDemoOrigin({ port: 8788, jwksUrl: `${gateway}/.well-known/jwks.json` });
  originUrl = demo.url;
}

// STORE=upstash with no credentials given: use the local Redis `npm run redis` started.
if (process.env.STORE === "upstash" && !process.env.UPSTASH_REDIS_REST_URL && existsSync(".wrangler/riskgate-redis.json")) {
  const local = JSON.parse(readFileSync(".wrangler/riskgate-redis.json", "utf8"));
  process.env.UPSTASH_REDIS_REST_URL = local.url;
  process.env.UPSTASH_REDIS_REST_TOKEN = local.token;
}
const vars = {
  RISKGATE_ENV: "development",
  ORIGIN_URL: originUrl,
  STORE: process.env.STORE ?? "durable-object",
};
for (const name of ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "ADMIN_TOKEN", "AUDIT_WEBHOOK_URL", "AUDIT_WEBHOOK_SECRET"]) {
  if (process.env[name]) vars[name] = process.env[name];
}
const adminToken = process.env.ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;

let running;
try {
  running = await startGateway({ port, vars, onOutput: (text) => process.stdout.write(text) });
} catch (err) {
  console.error(String(err));
  await demo?.close();
  process.exit(1);
}
console.log(`
riskgate is running
  gateway    ${gateway}
  origin     ${originUrl}${demo ? " (demo origin)" : ""}
  jwks       ${gateway}/.well-known/jwks.json
  dashboard  ${gateway}/__riskgate/   (development admin token: ${adminToken})
  metrics    curl -H 'authorization: Bearer ${adminToken}' ${gateway}/__riskgate/metrics

try it:
  curl -i -X POST ${gateway}/password/reset -H 'content-type: application/json' -d '{"email":"a@example.com"}'
  node tools/simulate-attack.mjs        # an enumeration attack; watch the dashboard
`);

const stop = async () => {
  await running.stop();
  await demo?.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
running.exited.then(async (code) => {
  await demo?.close();
  process.exit(code ?? 0);
});
