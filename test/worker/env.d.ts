type RiskgateEnv = import("../../src/gateway/env.ts").WorkerEnv;

declare namespace Cloudflare {
  interface Env extends RiskgateEnv {
    readonly ORIGIN_URL: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index.ts");
  }
}
