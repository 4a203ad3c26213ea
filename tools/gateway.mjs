// Start riskgate under `wrangler dev` (workerd, local Durable Objects) on 127.0.0.1.
// Shared by `npm start` and the browser tests, so both run the gateway the same way.
import { spawn } from "node:child_process";
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Run `wrangler dev` until it reports ready.
 * @param {{ port: number, vars: Record<string, string>, persistTo?: string,
 *           onOutput?: (chunk: string) => void, readyTimeoutMs?: number }} options
 * @returns {Promise<{ url: string, stop: () => Promise<void>, exited: Promise<number | null> }>}
 */
export function startGateway({ port, vars, persistTo, onOutput = () => {}, readyTimeoutMs = 90_000 }) {
  const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--show-interactive-dev-session=false"];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  if (persistTo) args.push("--persist-to", persistTo);
  const child = spawn("npx", args, {
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stop() ends wrangler and the workerd it started.
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_SEND_METRICS: "false" },
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      await exited;
    }
  };
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`wrangler dev not ready after ${readyTimeoutMs} ms:\n${output.slice(-2000)}`));
    }, readyTimeoutMs);
    const watch = (chunk) => {
      const text = String(chunk);
      output += text;
      onOutput(text);
      if (output.includes("Ready on")) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${port}`, stop, exited });
      }
    };
    child.stdout.on("data", watch);
    child.stderr.on("data", watch);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`wrangler dev exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
}
