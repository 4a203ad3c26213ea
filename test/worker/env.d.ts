declare namespace Cloudflare {
  interface Env {
    ORIGIN_URL: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../../src/index.ts");
  }
}
