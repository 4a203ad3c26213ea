// An operator's penalty lift reaches every isolate (docs/operations.md, "Lift a penalty box"):
// two gateways built from the same env stand for two isolates (each with its own block cache,
// boxes and live list copy; one store, one audit hub). Both hold the box in memory; the lift
// goes through the admin API of one; once the other's live copy is stale it reloads the layer
// (after a response, as in production), drops its cached block, and stops answering 429.
import { beforeAll, describe, expect, it } from "vitest";
import { createAdminAuth } from "../../src/admin/auth.ts";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import type { DecisionLogLine } from "../../src/audit/decision-log.ts";
import type { Gateway } from "../../src/gateway/gateway.ts";
import { LIVE_REFRESH_MS } from "../../src/scoring/signals/live-lists.ts";
import { testGateway } from "../worker/gateway-harness.ts";
import { call, reset } from "../worker/support/http.ts";

const BEARER = { authorization: `Bearer ${DEV_ADMIN_TOKEN}` };
let first: Gateway;
let other: Gateway;
let otherLines: DecisionLogLine[];
/** The other isolate's clock runs ahead by this much (ms): how the test lets its copy go stale. */
let skew = 0;

beforeAll(async () => {
  const a = await testGateway({});
  first = { ...a.gateway, admin: await createAdminAuth({ token: DEV_ADMIN_TOKEN, access: null }) };
  const b = await testGateway({});
  otherLines = b.lines;
  other = { ...b.gateway, now: () => Date.now() + skew };
});

describe("penalty lift across isolates", () => {
  it("the other isolate stops answering 429 from its cache once it reloads the live layer", async () => {
    const ip = "198.51.100.140";
    let n = 0;
    const send = (gateway: Gateway) => reset(gateway, { email: `reach-${n++}@example.com` }, { "cf-connecting-ip": ip });
    // Flood through the first isolate until the ip ladder refuses and boxes the address.
    while (n < 40 && (await send(first)).status !== 429) {}
    expect(n).toBeLessThan(40);
    // The other isolate learns the box from the store, then answers from memory (screen stage, no decision).
    expect((await send(other)).status).toBe(429);
    const before = otherLines.length;
    expect((await send(other)).status).toBe(429);
    expect(otherLines.length).toBe(before);

    const lifted = await call(first, "/__riskgate/api/penalty/lift", {
      method: "POST",
      headers: { "content-type": "application/json", ...BEARER },
      body: JSON.stringify({ key: ip, reason: "office NAT, false positive" }),
    });
    expect(lifted.status).toBe(200);
    expect((await send(first)).status).not.toBe(429);
    // The other isolate's copy is fresh: it still refuses from memory (the documented gap).
    expect((await send(other)).status).toBe(429);

    // Past the refresh interval: this refusal reloads the layer after the response; the next request is decided afresh.
    skew = LIVE_REFRESH_MS + 1_000;
    await send(other);
    const after = await send(other);
    expect(after.status).not.toBe(429);
    const line = otherLines.at(-1);
    expect(line?.reasons.map((r) => r.code)).not.toContain("PENALTY_BOX");
  });

  it("a hub that cannot record the lift is a 503 naming it, not a lift reported as reaching every isolate", async () => {
    const down = {
      ...first,
      hub: () =>
        ({
          recordLift: async () => {
            throw new Error("hub down");
          },
        }) as unknown as ReturnType<Gateway["hub"]>,
    };
    const res = await call(down, "/__riskgate/api/penalty/lift", {
      method: "POST",
      headers: { "content-type": "application/json", ...BEARER },
      body: JSON.stringify({ key: "198.51.100.141", reason: "test" }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.text()).toContain("LIVE_LISTS_UNAVAILABLE");
  });
});
