export interface RedisServer {
  readonly port: number;
  readonly dir: string;
  stop(): Promise<void>;
}
export function findRedisServer(): string | null;
export function freePort(): Promise<number>;
export function startRedisServer(options?: { binary?: string }): Promise<RedisServer>;
