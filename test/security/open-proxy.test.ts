// Attack: use the gateway as an open proxy. A request path that parses as a URL reference
// to another host (`//host`, `/\host`, ...) must still go to ORIGIN_URL's scheme, host and
// port, with the path appended as it came; the attacker's server must see nothing, neither
// the request nor the client's cookies (SECURITY.md, "Forwarding").
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { CHROME_HEADERS, forwardOf } from "../worker/helpers.ts";

const attacker = new URL(inject("attackerUrl"));
const origin = env.ORIGIN_URL;

interface Seen {
  path: string;
  accepted: boolean;
  claims?: Record<string, unknown>;
  headers?: Record<string, string>;
}

async function receivedBy(url: string): Promise<Seen[]> {
  return ((await (await fetch(`${url}/__demo/received`)).json()) as { received: Seen[] }).received;
}

// Each spelling names the attacker's host (and port) in a way some URL resolver honours.
const host = attacker.host;
const spellings = [
  `//${host}/steal`,
  `/\\${host}/steal`,
  `/%2F%2F${host}/steal`,
  `/%2f%2f${host}/steal`,
  `/http://${host}/steal`,
  `/@${host}/steal`,
  `//user:pass@${host}/steal`,
  `/..//${host}/steal`,
  `///${host}/steal`,
];

describe("forwarding never leaves ORIGIN_URL", () => {
  it.each(spellings)("pass-through %s reaches the origin, not the attacker", async (path) => {
    const before = (await receivedBy(attacker.origin)).length;
    const marker = crypto.randomUUID();
    const res = await exports.default.fetch(
      new Request(`https://gateway.test${path}?m=${marker}`, {
        headers: { cookie: "session=S", authorization: "Bearer T", "x-test-id": marker },
      }),
    );
    await res.arrayBuffer();
    expect((await receivedBy(attacker.origin)).slice(before)).toEqual([]);
    const atOrigin = (await receivedBy(origin)).filter((r) => r.path.includes(marker));
    expect(atOrigin).toHaveLength(1);
    // The path arrives as the gateway parsed it, under the origin's authority.
    expect(atOrigin[0]?.path.startsWith("/")).toBe(true);
    expect(atOrigin[0]?.path).toContain(host.split(":")[1]);
  });

  it("a reset sent to //password/reset is scored and forwarded to the origin", async () => {
    const marker = crypto.randomUUID();
    const res = await exports.default.fetch(
      new Request("https://gateway.test//password/reset", {
        method: "POST",
        headers: { "content-type": "application/json", ...CHROME_HEADERS, "x-test-id": marker },
        body: JSON.stringify({ email: `proxy-${marker}@example.com` }),
      }),
    );
    expect(res.status).toBe(202);
    // The forward runs after the response; then exactly one request arrived, at the origin.
    await forwardOf(marker, origin);
    expect((await receivedBy(attacker.origin)).filter((r) => r.headers?.["x-test-id"] === marker)).toEqual([]);
    const atOrigin = (await receivedBy(origin)).filter((r) => r.headers?.["x-test-id"] === marker);
    expect(atOrigin).toHaveLength(1);
    expect(atOrigin[0]?.accepted).toBe(true);
    expect(atOrigin[0]?.path).toBe("//password/reset");
  });
});
