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
 * `vars` go as --var arguments (visible in `ps`: tests only); `envFile` is a dotenv file of
 * values (and then wrangler reads no .dev.vars). The inspector takes `inspectorPort`, or any
 * free port: wrangler's default, 9229, may be taken by another wrangler.
 * @param {{ port: number, vars?: Record<string, string>, envFile?: string, inspectorPort?: number,
 *           persistTo?: string, onOutput?: (chunk: string) => void, readyTimeoutMs?: number,
 *           signal?: AbortSignal, testScheduled?: boolean }} options
 * @returns {Promise<{ url: string, stop: () => Promise<void>, exited: Promise<number | null> }>}
 */
export async function startGateway({ port, vars = {}, envFile, inspectorPort, persistTo, onOutput = () => {}, readyTimeoutMs = 90_000, signal, testScheduled = false }) {
  const inspector = inspectorPort ?? (await freePort());
  const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--show-interactive-dev-session=false"];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  if (envFile) args.push("--env-file", envFile);
  if (persistTo) args.push("--persist-to", persistTo);
  // `GET /__scheduled` runs the Cron Trigger (the live list refresh) on demand.
  if (testScheduled) args.push("--test-scheduled");
  const child = spawn("npx", args, {
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stop() ends wrangler and the workerd it started.
    detached: true,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_SEND_METRICS: "false",
      // Miniflare fetches a sample request.cf from workers.cloudflare.com at every start, and
      // offline prints a getaddrinfo stack trace before using its placeholder. Use the
      // placeholder outright (set CLOUDFLARE_CF_FETCH_ENABLED=true to fetch).
      CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
    },
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
  // Aborting (Ctrl-C before "Ready") ends wrangler and workerd too; the promise rejects.
  signal?.addEventListener("abort", () => void stop(), { once: true });
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
