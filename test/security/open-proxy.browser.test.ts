// Attack: a victim follows a link of the form `https://gateway//attacker.example/x`. Before
// the fix the gateway fetched the attacker's page with the victim's cookies and served it
// on the protected site's origin (its Set-Cookie included). Here a real Chromium follows
// such links against the gateway as `npm start` runs it (wrangler dev), and raw HTTP
// requests try the spellings a browser will not send (absolute-form targets, `@host`).
// The attacker's server must see no request at all.
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_CHROMIUM, type Stack, startStack } from "../browser/support.ts";

describe.runIf(HAS_CHROMIUM)("open proxy, from a browser and from raw HTTP", () => {
  let stack: Stack;
  let attacker: Server;
  let attackerHost = "";
  const hits: string[] = [];

  beforeAll(async () => {
    attacker = createServer((req, res) => {
      hits.push(`${req.method} ${req.url} cookie=${req.headers.cookie ?? ""}`);
      res.writeHead(200, { "content-type": "text/html", "set-cookie": "stolen=1; Path=/" });
      res.end("<title>attacker page</title><script>document.title = 'attacker ran: ' + document.cookie</script>");
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    const address = attacker.address();
    if (address === null || typeof address === "string") throw new Error("attacker server has no port");
    attackerHost = `127.0.0.1:${address.port}`;
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
    await new Promise<void>((resolve) => attacker?.close(() => resolve()));
  });

  it.each(["//", "/\\", "/%2F%2F", "/http://", "/..//"])("Chromium following %s<attacker> stays on the origin", async (prefix) => {
    const page = await stack.open({ width: 800 });
    await page.context().addCookies([{ name: "session", value: "victim-secret", url: stack.gateway.url }]);
    const before = stack.origin.received.length;
    const response = await page.goto(`${stack.gateway.url}${prefix}${attackerHost}/phish`);
    expect(hits).toEqual([]);
    // The demo origin answered (401: the path is not a reset route and carries no decision).
    expect(response?.status()).toBe(401);
    expect(await page.title()).not.toContain("attacker");
    expect(response?.headers()["set-cookie"] ?? "").not.toContain("stolen");
    const arrived = stack.origin.received.slice(before);
    expect(arrived.map((r) => (r as { path: string }).path).some((p) => p.includes(`${attackerHost.split(":")[1]}/phish`))).toBe(true);
    await page.context().close();
  });

  /** One raw HTTP/1.1 request with the given request-target; resolves with the status line. */
  function raw(target: string): Promise<string> {
    const { port } = new URL(stack.gateway.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: session=S\r\nAuthorization: Bearer T\r\nConnection: close\r\n\r\n`);
      });
      let data = "";
      socket.on("data", (chunk) => {
        data += String(chunk);
        // The status line is all we need; wrangler's proxy may keep the socket open.
        if (data.includes("\r\n")) {
          resolve(data.split("\r\n")[0] ?? "");
          socket.destroy();
        }
      });
      socket.on("end", () => resolve(data.split("\r\n")[0] ?? ""));
      socket.on("error", reject);
      socket.setTimeout(30_000, () => socket.destroy(new Error(`no answer for ${target}`)));
    });
  }

  it.each([
    (h: string) => `http://${h}/absolute-form`,
    (h: string) => `//${h}/raw`,
    (h: string) => `/\\${h}/raw`,
    (h: string) => `@${h}/raw`,
    (h: string) => `/%2F%2F${h}/raw`,
  ])("a raw request target %# never reaches the attacker", async (target) => {
    const status = await raw(target(attackerHost));
    expect(status).toMatch(/^HTTP\/1\.1 \d{3}/);
    expect(hits).toEqual([]);
  });
});
