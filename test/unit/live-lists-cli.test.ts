// `riskgate lists add|remove|show` speak the admin API the dashboard uses: the method, the
// bearer token (the development one only on loopback), the JSON body, and the answer.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processIo as real, type Io } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { DEV_ADMIN_TOKEN } from "../../src/admin/config.ts";

const seen: { method: string; path: string; auth: string; body: string }[] = [];
const server = createServer((req: IncomingMessage, res) => {
  let body = "";
  req.on("data", (c) => {
    body += c;
  });
  req.on("end", () => {
    seen.push({ method: req.method ?? "", path: req.url ?? "", auth: req.headers.authorization ?? "", body });
    const entry = { display: "203.0.113.7", list: "block", effect: "add", reason: "incident 42", source: "cli", expires_at: null };
    res.setHeader("content-type", "application/json");
    if (req.url === "/__riskgate/api/penalty/lift") res.end(JSON.stringify({ status: "lifted", kind: "ip", target: "x".repeat(22), ladders: ["ip"], boxed: 1 }));
    else if (req.method === "GET") res.end(JSON.stringify({ entries: [entry] }));
    else res.end(JSON.stringify({ status: req.method === "POST" ? "added" : "removed", entry }));
  });
});
let base = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    lines: real.lines,
    env: (name) => env[name],
  };
  return { code: await main(args, io), out, err };
}

describe("riskgate lists add|remove|show", () => {
  it("add posts the entry with the development token on loopback", async () => {
    const r = await run(["lists", "add", "203.0.113.7", "--list", "block", "--reason", "incident 42", "--expires", "12h", "--url", base]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("added: + block");
    const req = seen.at(-1);
    expect(req).toMatchObject({ method: "POST", path: "/__riskgate/api/lists", auth: `Bearer ${DEV_ADMIN_TOKEN}` });
    expect(JSON.parse(req?.body ?? "{}")).toEqual({ target: "203.0.113.7", list: "block", reason: "incident 42", expires: "12h", source: "cli" });
  });

  it("remove sends DELETE with RISKGATE_URL and RISKGATE_ADMIN_TOKEN; show lists", async () => {
    const env = { RISKGATE_URL: base, RISKGATE_ADMIN_TOKEN: "t".repeat(40) };
    expect((await run(["lists", "remove", "203.0.113.7", "--list", "block"], env)).code).toBe(0);
    expect(seen.at(-1)).toMatchObject({ method: "DELETE", auth: `Bearer ${"t".repeat(40)}` });
    const shown = await run(["lists", "show"], env);
    expect(shown.out).toContain("203.0.113.7");
  });

  it("needs --list and --reason, and a token off loopback", async () => {
    expect((await run(["lists", "add", "203.0.113.7", "--reason", "x", "--url", base])).code).toBe(2);
    expect((await run(["lists", "add", "203.0.113.7", "--list", "block", "--url", base])).code).toBe(2);
    expect((await run(["lists", "show", "--url", "https://gateway.example"])).code).toBe(2);
  });
});

describe("riskgate accounts block|release, penalty lift", () => {
  it("accounts block posts the address for the gateway to HMAC, on the block list; release deletes it", async () => {
    const r = await run(["accounts", "block", "Alice@example.com", "--reason", "takeover", "--expires", "2h", "--url", base]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("blocked:");
    expect(seen.at(-1)).toMatchObject({ method: "POST", path: "/__riskgate/api/lists" });
    expect(JSON.parse(seen.at(-1)?.body ?? "{}")).toEqual({ account: "Alice@example.com", list: "block", reason: "takeover", expires: "2h", source: "cli" });
    expect((await run(["accounts", "release", "Alice@example.com", "--url", base])).code).toBe(0);
    expect(seen.at(-1)).toMatchObject({ method: "DELETE" });
    expect(JSON.parse(seen.at(-1)?.body ?? "{}")).toEqual({ account: "Alice@example.com", list: "block", source: "cli" });
  });

  it("penalty lift posts the key and reason; both commands refuse a missing reason", async () => {
    const r = await run(["penalty", "lift", "203.0.113.7", "--reason", "office NAT", "--url", base]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("lifted: ip");
    expect(seen.at(-1)).toMatchObject({ method: "POST", path: "/__riskgate/api/penalty/lift" });
    expect(JSON.parse(seen.at(-1)?.body ?? "{}")).toEqual({ key: "203.0.113.7", reason: "office NAT", source: "cli" });
    expect((await run(["penalty", "lift", "203.0.113.7", "--url", base])).code).toBe(2);
    expect((await run(["accounts", "block", "a@example.com", "--url", base])).code).toBe(2);
  });
});
