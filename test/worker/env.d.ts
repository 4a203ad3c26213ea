declare namespace Cloudflare {
  interface Env {
    ORIGIN_URL: string;
    RISKGATE_STORE: DurableObjectNamespace<import("../../src/store/durable-object.ts").RiskgateStore>;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index.ts");
  }
}
