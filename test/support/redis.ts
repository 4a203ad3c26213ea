// The redis-server tests use. `npm test` (tools/test.mjs) starts one and passes its port
// in RISKGATE_TEST_REDIS_PORT; a bare `npx vitest` starts its own here. Where none is
// installed the Upstash suites are skipped with a loud warning, and under CI=true that
// is a failure instead.
import { findRedisServer, startRedisServer } from "../../tools/redis-bridge/redis-server.mjs";

/** A running redis-server, or the reason there is none. */
export type TestRedis =
  | { readonly port: number; readonly stop: () => Promise<void> }
  | { readonly port: null; readonly reason: string };

const MISSING =
  "redis-server is not installed: the Upstash adapter, bridge, fault and privacy tests are SKIPPED. " +
  "Install it (Debian: apt-get install redis-server) to run them; under CI=true this is a failure.";

/**
 * Find or start the redis-server for this test run. `shared: false` always starts a
 * private one: the bridge's own tests flush Redis's script cache, which must not
 * disturb the round-trip counts of tests running in parallel on the shared one.
 */
export async function testRedis({ shared }: { shared: boolean }): Promise<TestRedis> {
  const given = process.env.RISKGATE_TEST_REDIS_PORT;
  if (shared && given !== undefined && given !== "") {
    return { port: Number(given), stop: async () => undefined };
  }
  if (findRedisServer() === null) {
    if (process.env.CI === "true") throw new Error(`CI=true: ${MISSING}`);
    console.warn(`\n!!! ${MISSING}\n`);
    return { port: null, reason: MISSING };
  }
  const server = await startRedisServer();
  return { port: server.port, stop: server.stop };
}
