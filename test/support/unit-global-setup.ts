// Unit tests (Node): a private redis-server for the bridge tests (see ./redis.ts).
import type { TestProject } from "vitest/node";
import { testRedis } from "./redis.ts";

declare module "vitest" {
  export interface ProvidedContext {
    redisPort: number | null;
  }
}

export default async function setup(project: TestProject) {
  const redis = await testRedis({ shared: false });
  project.provide("redisPort", redis.port);
  project.provide("redisUnavailable", redis.port === null ? redis.reason : "");
  return async () => {
    if (redis.port !== null) await redis.stop();
  };
}
