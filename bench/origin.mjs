// The benchmark's origin: a plain HTTP server on 127.0.0.1 that answers every request
// with a small 200 at once, reading (and discarding) the body. Unlike the demo origin it
// verifies nothing, so it costs the same whoever sends to it: baseline and riskgate both
// forward here. It counts what reaches it, so the harness can check that every request
// of an allow-path round really was forwarded (GET /__bench/count).
//
//   node bench/origin.mjs            prints {"port":N} on stdout, stops on SIGTERM or
//                                    after --max-seconds (default 900), whichever is first.
import { createServer } from "node:http";

const BODY = JSON.stringify({ status: "ok" });

/**
 * Start the origin.
 * @param {{ port?: number }} [options]
 * @returns {Promise<{ port: number, count: () => number, connections: () => number, close: () => Promise<void> }>}
 */
export async function startBenchOrigin({ port = 0 } = {}) {
  let forwarded = 0;
  // New TCP connections: a gateway that cannot reuse its connections pays a handshake
  // per request, which shows here.
  let connections = 0;
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/__bench/count") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ forwarded, connections }));
      return;
    }
    forwarded++;
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
      res.end(BODY);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", () => {
    connections++;
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : port,
    count: () => forwarded,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const maxIndex = process.argv.indexOf("--max-seconds");
  const maxSeconds = maxIndex > 0 ? Number(process.argv[maxIndex + 1]) : 900;
  const origin = await startBenchOrigin();
  process.stdout.write(`${JSON.stringify({ port: origin.port })}\n`);
  const stop = () => origin.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // Never outlive a harness that died without stopping us.
  setTimeout(stop, maxSeconds * 1000).unref();
  process.stdin.on("end", stop);
  process.stdin.resume();
}
