// A SIEM stand-in for tests: a Node HTTP server on 127.0.0.1 that receives audit
// webhooks, checks their signature, and can be told to fail (500), hang (never answer)
// or accept. Tests in workerd drive it over HTTP: POST /__control/mode?m=fail|hang|ok,
// POST /__control/reset, GET /__control/received.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { verifyBody } from "../../src/audit/signature.ts";

/** One received request, as the receiver saw it. */
export interface ReceivedBatch {
  readonly mode: Mode;
  readonly signature: string | null;
  readonly batch: string | null;
  readonly body: string;
}

type Mode = "ok" | "fail" | "hang";

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Start the receiver; `secret` verifies signatures. */
export async function startWebhookReceiver(secret: string): Promise<{ url: string; close: () => Promise<void> }> {
  let mode: Mode = "ok";
  let received: (ReceivedBatch & { signatureError: string | null })[] = [];
  const hanging = new Set<ServerResponse>();
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const body = await readBody(req);
    if (url.pathname === "/__control/mode") {
      mode = (url.searchParams.get("m") ?? "ok") as Mode;
      return json(res, 200, { mode });
    }
    if (url.pathname === "/__control/reset") {
      received = [];
      return json(res, 200, {});
    }
    if (url.pathname === "/__control/received") return json(res, 200, received);
    const signature = req.headers["riskgate-signature"];
    const sig = typeof signature === "string" ? signature : null;
    const signatureError = await verifyBody(secret, body, sig, Math.floor(Date.now() / 1000));
    const batch = req.headers["riskgate-batch"];
    received.push({ mode, signature: sig, batch: typeof batch === "string" ? batch : null, body, signatureError });
    if (mode === "hang") {
      // Never answer: the gateway's timeout must give up on us.
      hanging.add(res);
      return;
    }
    return json(res, mode === "fail" ? 500 : 200, {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
