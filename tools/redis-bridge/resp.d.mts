export class RedisReplyError {
  readonly message: string;
  constructor(message: string);
}
export function encodeCommand(args: ReadonlyArray<string | number | Buffer>): Buffer;
export function parseReply(buf: Buffer, offset: number): { value: unknown; next: number } | null;
export class RedisConnection {
  constructor(options: { host?: string; port: number });
  send(commands: ReadonlyArray<ReadonlyArray<string | number | Buffer>>): Promise<unknown[]>;
  close(): void;
}
