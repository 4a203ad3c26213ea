// The bridge's RESP2 parser reads whatever redis-server sends, split across TCP chunks
// anywhere: property-tested on generated replies cut at every possible point.
import fc from "fast-check";
import { existsSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { startRedisServer } from "../../tools/redis-bridge/redis-server.mjs";
import { encodeCommand, parseReply, RedisConnection, RedisReplyError } from "../../tools/redis-bridge/resp.mjs";

type Reply = string | number | Buffer | RedisReplyError | null | Reply[];

/** Test-side RESP encoder (independent of the parser under test). */
function encode(reply: Reply): Buffer {
  if (reply === null) return Buffer.from("$-1\r\n");
  if (typeof reply === "number") return Buffer.from(`:${reply}\r\n`);
  if (typeof reply === "string") return Buffer.from(`+${reply}\r\n`);
  if (reply instanceof RedisReplyError) return Buffer.from(`-${reply.message}\r\n`);
  if (Buffer.isBuffer(reply)) return Buffer.concat([Buffer.from(`$${reply.length}\r\n`), reply, Buffer.from("\r\n")]);
  return Buffer.concat([Buffer.from(`*${reply.length}\r\n`), ...reply.map(encode)]);
}

const line = fc.string({ maxLength: 12 }).filter((s) => !/[\r\n]/.test(s));
const reply: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: "small" },
    line,
    fc.integer(),
    fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
    line.map((m) => new RedisReplyError(`ERR ${m}`)),
    fc.constant(null),
    fc.array(tie("reply"), { maxLength: 4 }),
  ),
})).reply;

describe("RESP parser", () => {
  it("parses any reply whole, and reports every strict prefix as incomplete", () => {
    fc.assert(
      fc.property(reply, (value) => {
        const bytes = encode(value);
        for (let cut = 0; cut < bytes.length; cut++) {
          if (parseReply(bytes.subarray(0, cut), 0) !== null) return false;
        }
        const parsed = parseReply(bytes, 0);
        expect(parsed?.next).toBe(bytes.length);
        expect(parsed?.value).toEqual(value);
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it("encodes commands as arrays of bulk strings, binary-safe", () => {
    expect(encodeCommand(["SET", "k", "é"]).toString("latin1")).toBe("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nÃ©\r\n");
  });

  it("refuses a type byte RESP2 does not have", () => {
    expect(() => parseReply(Buffer.from("%1\r\n"), 0)).toThrow(/unexpected RESP type/);
  });
});

const suite = inject("redisPort") === null ? describe.skip : describe;

suite("throwaway redis-server", () => {
  it("listens on loopback only, persists nothing, and leaves no directory behind", async () => {
    const server = await startRedisServer();
    const conn = new RedisConnection({ port: server.port });
    try {
      const replies = await conn.send([
        ["CONFIG", "GET", "save"],
        ["CONFIG", "GET", "appendonly"],
        ["CONFIG", "GET", "bind"],
        ["CONFIG", "GET", "dir"],
      ]);
      const value = (r: unknown) => String((r as Buffer[])[1]);
      expect(replies.map(value)).toEqual(["", "no", "127.0.0.1", server.dir]);
      expect(existsSync(server.dir)).toBe(true);
    } finally {
      conn.close();
      await server.stop();
    }
    expect(existsSync(server.dir)).toBe(false);
  });
});
