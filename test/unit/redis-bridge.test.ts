// The Upstash-REST bridge, driven by the real @upstash/redis and @upstash/ratelimit
// clients against a real redis-server: protocol, encodings, error shapes, auth,
// scripts (EVALSHA -> NOSCRIPT -> EVAL) and the fault modes tests rely on.
import { Ratelimit } from "@upstash/ratelimit";
import { errors, Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Bridge, startBridge } from "../../tools/redis-bridge/bridge.mjs";
import { TEST_HANG_TIMEOUT_MS, TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";

const redisPort = inject("redisPort");
const suite = redisPort === null ? describe.skip : describe;
const TOKEN = "bridge-test-token-0123456789";

let bridge: Bridge;

function client(options: { tag?: string; base64?: boolean; pipelining?: boolean; token?: string } = {}): Redis {
  const { tag = "t", base64 = true, pipelining = false, token = TOKEN } = options;
  return new Redis({
    url: `${bridge.url}/t/${tag}`,
    token,
    enableTelemetry: false,
    enableAutoPipelining: pipelining,
    retry: false,
    ...(base64 ? {} : { responseEncoding: false as const }),
  });
}

async function raw(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${bridge.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const id = () => `k:${crypto.randomUUID()}`;

suite("redis bridge: protocol", () => {
  beforeAll(async () => {
    bridge = await startBridge({ redisPort: redisPort ?? 0, token: TOKEN, hangLimitMs: 2000 });
  });
  afterAll(async () => {
    await bridge.close();
  });

  it.each([
    ["base64", true],
    ["plain JSON", false],
  ])("runs single commands with %s responses", async (_label, base64) => {
    const r = client({ base64 });
    const key = id();
    expect(await r.set(key, "héllo ✓ \"quoted\"")).toBe("OK");
    expect(await r.get(key)).toBe("héllo ✓ \"quoted\"");
    expect(await r.incr(`${key}:n`)).toBe(1);
    expect(await r.get(`${key}:missing`)).toBeNull();
    expect(await r.ping()).toBe("PONG");
  });

  it("counts commands by name per tag, single and pipelined (the benchmark tells round trips from background reads by it)", async () => {
    const tag = `c${crypto.randomUUID().slice(0, 8)}`;
    const key = id();
    const r = client({ tag });
    await r.incr(key);
    await r.hgetall(`${key}:h`);
    const p = r.pipeline();
    p.incr(key);
    p.get(key);
    await p.exec();
    expect(bridge.stats(tag).byCommand).toEqual({ incr: 2, hgetall: 1, get: 1 });
    expect(bridge.stats(tag).requests).toBe(3);
  });

  it("base64-encodes every string in a result when asked, and nothing else", async () => {
    const key = id();
    await raw("/", ["RPUSH", key, "a", "b"]);
    expect(await raw("/", ["LRANGE", key, "0", "-1"], { "upstash-encoding": "base64" })).toEqual({
      status: 200,
      json: { result: ["YQ==", "Yg=="] },
    });
    expect(await raw("/", ["LLEN", key], { "upstash-encoding": "base64" })).toEqual({ status: 200, json: { result: 2 } });
    expect(await raw("/", ["LRANGE", key, "0", "-1"])).toEqual({ status: 200, json: { result: ["a", "b"] } });
  });

  it("answers /pipeline in order, with per-command errors shaped {error}", async () => {
    const key = id();
    const reply = await raw("/pipeline", [["SET", key, "x"], ["INCR", key], ["GET", key]]);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual([
      { result: "OK" },
      { error: "ERR value is not an integer or out of range" },
      { result: "x" },
    ]);
    const p = client().pipeline();
    p.set(`${key}:2`, 1);
    p.incr(`${key}:2`);
    expect(await p.exec()).toEqual(["OK", 2]);
  });

  it("runs /multi-exec atomically; a command Redis rejects up front aborts the whole transaction", async () => {
    const key = id();
    const tx = client().multi();
    tx.incr(key);
    tx.incr(key);
    expect(await tx.exec()).toEqual([1, 2]);
    const aborted = await raw("/multi-exec", [["INCR", key], ["NOSUCHCOMMAND"]]);
    expect(aborted.status).toBe(400);
    expect(String((aborted.json as { error: string }).error)).toMatch(/^EXECABORT/);
    expect(await client().get(key)).toBe(2); // nothing of the aborted transaction ran
  });

  it.each([
    ["a Redis error", ["INCR"], 400, /^ERR wrong number of arguments/],
    ["a malformed body", "{not json", 400, /^ERR failed to parse command/],
    ["a nested argument", ["SET", "k", { a: 1 }], 400, /^ERR failed to parse command/],
    ["a denied command", ["MULTI"], 400, /^ERR command is not allowed/],
  ])("answers %s on a single command with %i {error}", async (_label, body, status, message) => {
    const reply = await raw("/", body);
    expect(reply.status).toBe(status);
    expect((reply.json as { error: string }).error).toMatch(message);
  });

  it.each([
    ["no token", {}],
    ["a wrong token", { authorization: "Bearer wrong-token-000000000000" }],
    ["a malformed header", { authorization: TOKEN }],
  ])("refuses %s with 401 {error: Unauthorized}", async (_label, headers) => {
    const res = await fetch(`${bridge.url}/`, { method: "POST", headers, body: '["PING"]' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Unauthorized" });
  });

  it("accepts the token as ?_token= and path-style commands", async () => {
    const res = await fetch(`${bridge.url}/echo/hi%20there?_token=${TOKEN}`);
    expect(await res.json()).toEqual({ result: "hi there" });
  });

  it("surfaces a wrong token to the client as an error", async () => {
    await expect(client({ token: "wrong-token-000000000000" }).get("x")).rejects.toThrow(/Unauthorized/);
  });
});

suite("redis bridge: scripts", () => {
  beforeAll(async () => {
    bridge = await startBridge({ redisPort: redisPort ?? 0, token: TOKEN });
  });
  afterAll(async () => {
    await bridge.close();
  });

  it("EVALSHA of an unknown script is NOSCRIPT; the client falls back to EVAL once, then EVALSHA hits", async () => {
    const tag = `s${crypto.randomUUID().slice(0, 8)}`;
    const r = client({ tag });
    await r.scriptFlush();
    const script = r.createScript<number>(`return tonumber(ARGV[1]) + ${Math.floor(Math.random() * 1e9)}`);
    await expect(r.evalsha(await sha(script.script), [], ["1"])).rejects.toThrow(/NOSCRIPT/);
    const before = bridge.stats(tag).requests;
    await script.exec([], ["1"]);
    expect(bridge.stats(tag).requests - before).toBe(2); // EVALSHA (NOSCRIPT), then EVAL
    await script.exec([], ["2"]);
    expect(bridge.stats(tag).requests - before).toBe(3); // EVALSHA hits
  });

  it("accepts Upstash's allow-key-locking flag and keeps the client's SHA-1 working", async () => {
    const r = client();
    const source = `#!lua flags=allow-key-locking\nreturn redis.call("INCR", KEYS[1]) + ${Math.floor(Math.random() * 1e9)}`;
    const digest = await sha(source);
    const key = id();
    await expect(r.evalsha(digest, [key], [])).rejects.toThrow(/NOSCRIPT/);
    const first = (await r.eval(source, [key], [])) as number;
    expect(await r.evalsha(digest, [key], [])).toBe(first + 1);
    expect(await r.scriptLoad(source)).toBe(digest);
    expect(await r.scriptExists(digest)).toEqual([1]);
  });

  it("runs @upstash/ratelimit's sliding window through it, first call included", async () => {
    const r = client({ pipelining: true });
    await r.scriptFlush();
    const limiter = new Ratelimit({ redis: r, limiter: Ratelimit.slidingWindow(3, "60 s"), prefix: id(), timeout: 0, analytics: false });
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await limiter.limit("user")).success);
    expect(results).toEqual([true, true, true, false]);
  });
});

suite("redis bridge: fault modes", () => {
  beforeAll(async () => {
    // Hung requests are held longer than the client's hang timeout below, so the client
    // always gives up first (its abort is what the hang case recognises).
    bridge = await startBridge({ redisPort: redisPort ?? 0, token: TOKEN, hangLimitMs: 5 * TEST_HANG_TIMEOUT_MS });
  });
  afterAll(async () => {
    await bridge.setFault("none");
    await bridge.close();
  });

  it.each([
    ["error500", (e: unknown) => e instanceof errors.UpstashError && /bridge fault/.test(String(e))],
    ["garbage", (e: unknown) => e instanceof errors.UpstashJSONParseError],
    ["refuse", (e: unknown) => /ECONNREFUSED|fetch failed/.test(String((e as Error).cause ?? e))],
    ["reset", (e: unknown) => /fetch failed|ECONNRESET|socket/.test(String((e as Error).cause ?? e))],
    ["hang", (e: unknown) => /abort|timeout/i.test(String(e))],
  ] as const)("%s: the client fails, and recovers once the mode is back to none", async (mode, recognise) => {
    // Only the hang needs a short client timeout; an answering bridge on a loaded machine
    // gets a generous one, so a slow answer is never mistaken for the fault.
    const timed = (timeoutMs: number) =>
      new Redis({
        url: bridge.url,
        token: TOKEN,
        enableTelemetry: false,
        enableAutoPipelining: false,
        retry: false,
        signal: () => AbortSignal.timeout(timeoutMs),
      });
    await bridge.setFault(mode);
    const error = await timed(mode === "hang" ? TEST_HANG_TIMEOUT_MS : TEST_STORE_TIMEOUT_MS)
      .get("x")
      .then(() => null, (e: unknown) => e);
    expect(error).not.toBeNull();
    expect(recognise(error)).toBe(true);
    await bridge.setFault("none");
    expect(await timed(TEST_STORE_TIMEOUT_MS).ping()).toBe("PONG");
  });

  it("rejects an unknown fault mode", async () => {
    await expect(bridge.setFault("explode" as "none")).rejects.toThrow(/unknown fault mode/);
  });
});

async function sha(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
