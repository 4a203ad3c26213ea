type RiskgateEnv = import("../../src/shared/env.ts").Env;

declare namespace Cloudflare {
  interface Env extends RiskgateEnv {
    readonly ORIGIN_URL: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index.ts");
  }
}
