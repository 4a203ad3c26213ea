// Operators act where they look (#15.5): in Chromium, sign in, block an account by its
// address, see its next reset silently denied (ACCOUNT_BLOCKED in the decisions panel,
// the same 202 as another account), release it, and lift an IP's penalty box so its
// next reset is no longer refused (from the lift… on its refused row). Against the
// gateway as `npm start` runs it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";
import { HAS_CHROMIUM, type Stack, startStack } from "./support.ts";

describe.skipIf(!HAS_CHROMIUM)("dashboard operator actions in Chromium", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const resetFrom = async (email: string, ip: string) => {
    const res = await fetch(`${stack.gateway.url}/password/reset`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Mozilla/5.0 Chrome/130 operator-test", "cf-connecting-ip": ip },
      body: JSON.stringify({ email }),
    });
    return { status: res.status, body: await res.text() };
  };

  it("signs in, blocks an account, sees the silent deny, releases it, lifts a penalty box", async () => {
    const page = await stack.open({ width: 1400, headers: {} });
    await page.goto(`${stack.gateway.url}/__riskgate/`);
    await page.locator("#token").fill(DEV_ADMIN_TOKEN);
    await page.locator("button[type=submit]").click();
    await page.waitForURL(`${stack.gateway.url}/__riskgate/`);

    await page.getByTestId("account-address").fill("Blocked.Person@example.com");
    await page.getByTestId("account-reason").fill("account takeover in progress");
    await page.getByTestId("account-expires").fill("1h");
    await page.getByTestId("account-form").locator("button[type=submit]").click();
    await expect.poll(() => page.getByTestId("action-status").textContent()).toBe("account blocked");
    // Listed by its HMAC, never by the address.
    const entry = page.getByTestId("live-entry").filter({ hasText: "account takeover in progress" });
    await expect.poll(() => entry.count()).toBe(1);
    expect(await entry.textContent()).toMatch(/account:[A-Za-z0-9_-]{22}/);
    expect(await entry.textContent()).not.toContain("example.com");

    // The effect: the client sees what another account gets; the decisions panel shows why.
    const blocked = await resetFrom("blocked.person+x@example.com", "198.51.100.21");
    const other = await resetFrom("someone.else@example.com", "198.51.100.22");
    expect(blocked).toEqual(other);
    const row = page.getByTestId("decision-row").filter({ hasText: "ACCOUNT_BLOCKED" });
    await expect.poll(() => row.count(), { timeout: 60_000 }).toBeGreaterThan(0);

    await page.getByTestId("account-address").fill("blocked.person@example.com");
    await page.getByTestId("account-release").click();
    await expect.poll(() => page.getByTestId("action-status").textContent()).toBe("account released");
    await expect.poll(() => entry.count()).toBe(0);

    // Flood one address into the ip ladder's penalty box, then lift it from the dashboard.
    const ip = "198.51.100.99";
    let n = 0;
    while (n < 40 && (await resetFrom(`flood-${n}@example.com`, ip)).status !== 429) n++;
    expect(n).toBeLessThan(40);
    expect((await resetFrom(`flood-${++n}@example.com`, ip)).status).toBe(429);
    // The refusals show as one row in the decisions panel; its lift… hands the key to the form.
    const liftButton = page.locator("button[data-lift^='key:ip:']").first();
    await expect.poll(() => liftButton.count(), { timeout: 60_000 }).toBe(1);
    await liftButton.click();
    await expect.poll(() => page.getByTestId("lift-key").inputValue()).toMatch(/^key:ip:[A-Za-z0-9_-]{22}$/);
    // By design the button lifts nothing: a lift needs a reason for the audit trail, so it
    // fills the form and puts the cursor in the reason; submitting the form is the confirm.
    expect(await page.getByTestId("action-status").textContent()).toBe("account released");
    expect((await resetFrom(`flood-${++n}@example.com`, ip)).status).toBe(429);
    const focused = () => page.evaluate<string | null>(`document.activeElement?.getAttribute("data-testid") ?? null`);
    expect(await focused()).toBe("lift-reason");
    // The dashboard refreshes every 5 s while the operator types: the form keeps the key,
    // the half-typed reason and the focus.
    await page.keyboard.type("office NAT");
    const updated = await page.locator("#updated").textContent();
    await expect.poll(() => page.locator("#updated").textContent(), { timeout: 60_000 }).not.toBe(updated);
    expect(await focused()).toBe("lift-reason");
    expect(await page.getByTestId("lift-reason").inputValue()).toBe("office NAT");
    expect(await page.getByTestId("lift-key").inputValue()).toMatch(/^key:ip:[A-Za-z0-9_-]{22}$/);
    // A refresh that fails (the admin API answers 503 for a while) says so above the
    // panels and leaves the form, its text and the focus alone; the next good one clears it.
    await page.route("**/__riskgate/api/summary**", (route) => route.fulfill({ status: 503, contentType: "application/json", body: '{"error":"unavailable"}' }));
    await expect.poll(() => page.getByTestId("panel-error").count(), { timeout: 60_000 }).toBe(1);
    expect(await page.locator("#updated").textContent()).toMatch(/^stale: last updated /);
    expect(await focused()).toBe("lift-reason");
    expect(await page.getByTestId("lift-key").inputValue()).toMatch(/^key:ip:[A-Za-z0-9_-]{22}$/);
    expect(await page.getByTestId("decision-row").count()).toBeGreaterThan(0);
    await page.unroute("**/__riskgate/api/summary**");
    await expect.poll(() => page.getByTestId("panel-error").count(), { timeout: 60_000 }).toBe(0);
    expect(await focused()).toBe("lift-reason");
    await page.keyboard.type(", false positive");
    expect(await page.getByTestId("lift-reason").inputValue()).toBe("office NAT, false positive");
    await page.getByTestId("lift-form").locator("button[type=submit]").click();
    await expect.poll(() => page.getByTestId("action-status").textContent()).toBe("lifted the refused key");
    expect((await resetFrom(`flood-${n + 1}@example.com`, ip)).status).not.toBe(429);
  });
});
