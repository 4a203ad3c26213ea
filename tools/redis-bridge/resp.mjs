// A minimal RESP2 client: enough for the Upstash-REST bridge to talk to a local
// redis-server (commands in, typed replies out, pipelined over one connection).
// No dependency: the protocol is small (https://redis.io/docs/latest/develop/reference/protocol-spec/).
import { connect } from "node:net";

/** A Redis error reply (`-ERR ...`); kept as a value so pipelines can carry it. */
export class RedisReplyError {
  /** @param {string} message */
  constructor(message) {
    this.message = message;
  }
}

/**
 * Encode one command as a RESP array of bulk strings.
 * @param {ReadonlyArray<string | number | Buffer>} args
 * @returns {Buffer}
 */
export function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), "utf8");
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/**
 * Parse one reply starting at `offset`. Returns null when the buffer does not yet hold
 * a whole reply (the caller waits for more bytes).
 * Bulk strings stay Buffers so binary values (HyperLogLog registers) survive.
 * @param {Buffer} buf
 * @param {number} offset
 * @returns {{ value: unknown, next: number } | null}
 */
export function parseReply(buf, offset) {
  if (offset >= buf.length) return null;
  const lineEnd = buf.indexOf("\r\n", offset);
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString("utf8", offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: line, next: after };
    case "-":
      return { value: new RedisReplyError(line), next: after };
    case ":":
      return { value: Number(line), next: after };
    case "$": {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return null;
      return { value: buf.subarray(after, after + len), next: after + len + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, next);
        if (item === null) return null;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/**
 * One connection to redis-server. Commands written in one `send` go out in one write
 * and their replies come back in order, so concurrent callers never interleave.
 */
export class RedisConnection {
  /** @param {{ host?: string, port: number }} options */
  constructor({ host = "127.0.0.1", port }) {
    this.host = host;
    this.port = port;
    /** @type {import("node:net").Socket | null} */
    this.socket = null;
    /** @type {Array<{ left: number, replies: unknown[], resolve: (r: unknown[]) => void, reject: (e: Error) => void }>} */
    this.pending = [];
    this.buffer = Buffer.alloc(0);
  }

  /**
   * Send commands and resolve with one reply per command (errors as RedisReplyError).
   * @param {ReadonlyArray<ReadonlyArray<string | number | Buffer>>} commands
   * @returns {Promise<unknown[]>}
   */
  send(commands) {
    if (commands.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const socket = this.open();
      this.pending.push({ left: commands.length, replies: [], resolve, reject });
      socket.write(Buffer.concat(commands.map(encodeCommand)));
    });
  }

  /** Close the connection; pending calls fail. */
  close() {
    this.socket?.destroy();
    this.socket = null;
  }

  /** @private */
  open() {
    if (this.socket !== null) return this.socket;
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    socket.on("data", (chunk) => this.onData(chunk));
    const fail = (err) => {
      if (this.socket === socket) this.socket = null;
      this.buffer = Buffer.alloc(0);
      const waiting = this.pending.splice(0);
      for (const call of waiting) call.reject(err ?? new Error("redis connection closed"));
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("redis connection closed")));
    this.socket = socket;
    return socket;
  }

  /** @private @param {Buffer} chunk */
  onData(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    for (;;) {
      const call = this.pending[0];
      if (call === undefined) break;
      const parsed = parseReply(this.buffer, offset);
      if (parsed === null) break;
      offset = parsed.next;
      call.replies.push(parsed.value);
      call.left -= 1;
      if (call.left === 0) {
        this.pending.shift();
        call.resolve(call.replies);
      }
    }
    this.buffer = this.buffer.subarray(offset);
  }
}
