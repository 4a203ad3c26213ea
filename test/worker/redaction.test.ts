// Redaction: requests carrying secrets (passwords and tokens in the body, a bearer
// token, cookies, raw emails, client IPs) go through the whole gateway; then every
// output is scanned: log lines, audit events (native and OCSF), Analytics Engine data
// points, queue messages, webhook bodies, the admin API and the Prometheus text.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type AuditSink, createAuditor } from "../../src/audit/auditor.ts";
import { durableSink } from "../../src/audit/sinks/hub.ts";
import { logSink } from "../../src/audit/sinks/log.ts";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import { createGateway, type Gateway } from "../../src/gateway/gateway.ts";
import { analyticsEngineSink } from "../../src/metrics/analytics-engine.ts";
import { BROWSER_UA, call, hub, receiver } from "./support/http.ts";

const SECRETS = {
  email: "Victim.Person+reset@Example.COM",
  password: "Tr0ub4dor&3-horse-battery",
  resetToken: "rst_9f8e7d6c5b4a3210",
  bearer: "sk_live_leaky_bearer_123456",
  cookie: "sess_cookie_value_987654",
  apiKey: "x-api-key-5550001",
  clientIp: "203.0.113.77",
  forwardedIp: "198.51.100.23",
  adminGuess: "wrong-admin-token-guess-42",
};
/** Patterns a leak would show, including the email's parts and normalised form. */
const LEAKS = [
  ...Object.values(SECRETS).map((s) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i")),
  /victim\.person/i,
  /victim%2Eperson|victim%40/i,
  /example\.com/i,
];

afterEach(() => vi.restoreAllMocks());

/** The production sink set, with each sink's output also recorded. */
function recordingGateway(base: Gateway, out: string[]): Gateway {
  const queue = {
    sendBatch: async (messages: Iterable<MessageSendRequest>) => {
      const list = [...messages];
      out.push(JSON.stringify(list));
      return env.AUDIT_QUEUE?.sendBatch(list) ?? ({} as QueueSendBatchResponse);
    },
  };
  const sinks: AuditSink[] = [
    logSink((line) => out.push(line)),
    analyticsEngineSink({ writeDataPoint: (p) => void out.push(JSON.stringify(p ?? {})) }),
    durableSink({ hub: base.hub, queue, webhook: true, format: "ocsf" }),
  ];
  return {
    ...base,
    log: (line) => void out.push(JSON.stringify(line)),
    audit: createAuditor({ source: "redaction", rules: base.ruleset.version, now: base.now, newId: base.newId, sinks }),
  };
}

async function pushSecrets(gateway: Gateway): Promise<void> {
  const headers = {
    "user-agent": BROWSER_UA,
    authorization: `Bearer ${SECRETS.bearer}`,
    cookie: `session=${SECRETS.cookie}; theme=dark`,
    "x-api-key": SECRETS.apiKey,
    "cf-connecting-ip": SECRETS.clientIp,
    "x-forwarded-for": SECRETS.forwardedIp,
  };
  const json = { email: SECRETS.email, password: SECRETS.password, token: SECRETS.resetToken };
  const form = new URLSearchParams({ email: SECRETS.email, password: SECRETS.password }).toString();
  const requests: RequestInit[] = [
    { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(json) },
    { method: "POST", headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, body: form },
    // A scripted client gets challenged: the challenge path is recorded too.
    ...Array.from({ length: 6 }, (_, i) => ({
      method: "POST",
      headers: { ...headers, "user-agent": "curl/8.5.0", "content-type": "application/json" },
      body: JSON.stringify({ ...json, email: `${i}.${SECRETS.email}` }),
    })),
  ];
  for (const init of requests) expect((await call(gateway, "/password/reset", init)).status).toBeLessThan(500);
  // An unscored path and a failed admin login with a guessed token.
  await call(gateway, `/account?email=${encodeURIComponent(SECRETS.email)}`, { headers });
  await call(gateway, "/__riskgate/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `token=${SECRETS.adminGuess}`,
  });
}

async function adminOutputs(gateway: Gateway): Promise<string[]> {
  const auth = { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } };
  const get = async (path: string) => (await call(gateway, path, auth)).text();
  const decisions = await get("/__riskgate/api/decisions?limit=200");
  const ids = (JSON.parse(decisions) as { events: { id: string }[] }[]).flatMap((d) => d.events.map((e) => e.id));
  const events = await Promise.all(ids.map((id) => get(`/__riskgate/api/events/${id}`)));
  return [decisions, ...events, await get("/__riskgate/api/summary?minutes=60"), await get("/__riskgate/metrics")];
}

describe("redaction", () => {
  it("no secret appears in any log line, event, data point, message, webhook body or admin output", async () => {
    const consoleLines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void consoleLines.push(args.map(String).join(" ")));
    }
    const recorded: string[] = [];
    const gateway = recordingGateway(await createGateway(env), recorded);
    await receiver.mode("ok");
    await pushSecrets(gateway);
    await hub().deliver(Date.now() + 60_000);
    const webhookBodies = (await receiver.received()).map((r) => r.body).filter((b) => b.includes('"redaction"'));

    const admin = await adminOutputs(gateway);
    const outputs = { console: consoleLines, sinks: recorded, webhook: webhookBodies, admin };
    // The scan must have something to scan: every channel carried this test's events.
    expect(recorded.filter((l) => l.includes('"riskgate.decision"')).length).toBe(8);
    expect(recorded.some((l) => l.includes('"indexes":["decision"]'))).toBe(true);
    expect(recorded.some((l) => l.includes('"contentType":"json"'))).toBe(true);
    expect(webhookBodies.length).toBeGreaterThan(0);
    expect(admin.length).toBeGreaterThan(10);
    expect(recorded.join("\n")).toContain('"type":"admin.login"');
    for (const [channel, lines] of Object.entries(outputs)) {
      const text = lines.join("\n");
      for (const leak of LEAKS) expect(text, `${channel} leaks ${leak}`).not.toMatch(leak);
    }
  });
});
