// The live reputation layer end to end (docs/architecture.md, "Live lists"): an operator
// blocks an address, range or ASN through the admin API and the next reset from it is
// refused; releasing it lets the next one through. Each change is a `list.changed` audit
// event, and the admin API is behind the same authentication (and cross-site guard).
import { beforeAll, describe, expect, it } from "vitest";
import { createAdminAuth } from "../../src/admin/auth.ts";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import type { Gateway } from "../../src/gateway/gateway.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import { testGateway } from "../worker/gateway-harness.ts";
import { call, hub, reset } from "../worker/support/http.ts";

let gateway: Gateway;
let lines: DecisionLogLine[];
const BEARER = { authorization: `Bearer ${DEV_ADMIN_TOKEN}` };

beforeAll(async () => {
  const built = await testGateway({});
  lines = built.lines;
  gateway = { ...built.gateway, admin: await createAdminAuth({ token: DEV_ADMIN_TOKEN, access: null }) };
});

function lists(method: "POST" | "DELETE", body: Record<string, unknown>, headers: Record<string, string> = BEARER): Promise<Response> {
  return call(gateway, "/__riskgate/api/lists", { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

async function verdictFrom(ip: string, n: number): Promise<DecisionLogLine> {
  const before = lines.length;
  await reset(gateway, { email: `live-${n}@example.com` }, { "cf-connecting-ip": ip });
  const line = lines.slice(before).at(-1);
  if (line === undefined) throw new Error("no decision logged");
  return line;
}

describe("live lists", () => {
  it("a block via the admin API refuses the next reset from that IP; removing it allows the next", async () => {
    const ip = "192.0.2.41";
    expect((await verdictFrom(ip, 1)).verdict).not.toBe("deny");

    const t0 = Date.now();
    const added = await lists("POST", { target: ip, list: "block", reason: "incident 42", expires: "1h", source: "cli" });
    expect(added.status).toBe(201);
    const blocked = await verdictFrom(ip, 2);
    // Measured, not asserted (docs/architecture.md, "Live lists"): block to first refusal.
    console.log(JSON.stringify({ type: "live_lists.block_to_refusal_ms", ms: Date.now() - t0 }));
    expect(blocked.verdict).toBe("deny");
    expect(blocked.reasons.map((r) => r.code)).toContain("LIVE_LIST_BLOCK");
    // Another address is untouched.
    expect((await verdictFrom("192.0.2.42", 3)).verdict).not.toBe("deny");

    const removed = await lists("DELETE", { target: ip, list: "block", reason: "false positive" });
    expect(removed.status).toBe(200);
    expect((await verdictFrom(ip, 4)).verdict).not.toBe("deny");
  });

  it("a CIDR block covers the range; the listing shows it; the changes are audit events", async () => {
    expect((await lists("POST", { target: "192.0.2.128/25", list: "block", reason: "botnet range" })).status).toBe(201);
    expect((await verdictFrom("192.0.2.200", 5)).verdict).toBe("deny");
    const shown = (await (await call(gateway, "/__riskgate/api/lists", { headers: BEARER })).json()) as { entries: { display: string; list: string; reason: string }[] };
    expect(shown.entries).toContainEqual(expect.objectContaining({ display: "192.0.2.128/25", list: "block", reason: "botnet range" }));
    expect((await lists("DELETE", { target: "192.0.2.128/25", list: "block" })).status).toBe(200);
    expect((await verdictFrom("192.0.2.200", 6)).verdict).not.toBe("deny");

    const rows = await hub().listEntries();
    expect(rows.some((e) => e.target.startsWith("cidr:"))).toBe(false);
    // Each change reached the audit hub as a `list.changed` event (counted by kind).
    await expect.poll(async () => hub().prometheus(), { timeout: 60_000 }).toMatch(/riskgate_list_changes_total\{[^}]*action="remove"[^}]*kind="cidr"/);
  });

  it("refuses bad input, unauthenticated and cross-site writes", async () => {
    expect((await lists("POST", { target: "192.0.2.1/24", list: "block", reason: "host bits" })).status).toBe(400);
    expect((await lists("POST", { target: "192.0.2.1", list: "block", reason: "" })).status).toBe(400);
    expect((await lists("POST", { target: "192.0.2.1", list: "block", reason: "x", expires: "forever" })).status).toBe(400);
    expect((await lists("POST", { target: "192.0.2.1", list: "block", reason: "x" }, {})).status).toBe(401);
    // A cookie session from another site cannot write (CSRF).
    const login = await call(gateway, "/__riskgate/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: DEV_ADMIN_TOKEN }).toString(),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect((await lists("POST", { target: "192.0.2.9", list: "block", reason: "csrf" }, { cookie, "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await lists("POST", { target: "192.0.2.9", list: "block", reason: "same origin" }, { cookie, "sec-fetch-site": "same-origin" })).status).toBe(201);
    expect((await lists("DELETE", { target: "192.0.2.9", list: "block" })).status).toBe(200);
    expect((await lists("DELETE", { target: "192.0.2.9", list: "block" })).status).toBe(404);
  });
});
