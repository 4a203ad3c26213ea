// Attack: tell real accounts and silent denies apart by response time. Before the fix the
// uniform 202 waited for the origin, so an origin slower for real accounts (it looks them
// up) showed in the gateway's response time (medians 85.5 ms vs 38.4 ms), and a silently
// denied request answered in ~7 ms where a forwarded one took 100-600 ms. Answering before
// the origin (src/reset/deliver.ts) removed that, but the work that differs by verdict
// (signing and starting the forward, the record stage) still ran before the answer and
// showed (forwarded 53 vs denied 40 ms, p < 0.001). Now every answer leaves at a fixed
// floor (RESET_RESPONSE_FLOOR_MS, 250 ms by default) and that work starts after it
// (src/reset/route.ts).
//
// Measured here from a real HTTP client (Node) against the gateway as `npm start` runs it
// (wrangler dev, the default floor; inside workerd's test runner the clock only moves on
// I/O, so timing there would not be the client's), in front of the demo origin, which is
// 250 ms slower for some accounts. Three classes, n = 200 each, interleaved in a random
// order so a loaded machine slows all of them alike:
//   forwarded  a fresh account the origin answers at once
//   slow       an account the origin takes 250 ms longer for
//   denied     a request the rules deny silently (Tor exit, no User-Agent, headless)
// A two-sided Mann-Whitney U test per pair must NOT reject "same distribution" at
// alpha = 0.001. An A/A control (two random halves of the forwarded class) is reported
// beside them: it shows the p-values a run gets when there is nothing to find. A
// statistical test, not a wall-clock limit: no duration is asserted. The report goes to
// the file named by RISKGATE_TIMING_REPORT, when set.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import { freePort, type RunningGateway, startGateway } from "../../tools/gateway.mjs";
import { TEST_STORE_TIMEOUT_MS } from "../support/constants.ts";
import { mannWhitneyU } from "../support/stats.ts";

const N = 200;
const WARM_UP = 30;
const ALPHA = 0.001;
const SLOW_MS = 250;
const IP_HEADER = "x-test-client-ip";

type Kind = "forwarded" | "slow" | "denied";

/** Current Tor exits from the bundled list, one address each (the deny class's addresses). */
function torExits(): string[] {
  const today = new Date().toISOString().slice(0, 10);
  return readFileSync(join(process.cwd(), "rules/lists/tor-exits.txt"), "utf8")
    .split("\n")
    .map((line) => /^(\d+\.\d+\.\d+\.\d+)(?:\s+expires=(\S+))?\s*#\s*tor exit/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && (m[2] === undefined || m[2] > today))
    .map((m) => m[1] ?? "");
}

let seq = 0;
const run = Math.random().toString(36).slice(2, 8);

/** A request of one class: its headers and its email. */
function requestOf(kind: Kind, exits: readonly string[]): { email: string; headers: Record<string, string> } {
  const n = ++seq;
  const email = `${kind}-${run}-${n}@timing.test`;
  if (kind === "denied") {
    // Tor exit (45) + no User-Agent (40) + a headless brand (40): the critical tier, a silent deny.
    return {
      email,
      headers: {
        "content-type": "application/json",
        "user-agent": "",
        "sec-ch-ua": `"HeadlessChrome";v="${100 + (n % 900)}"`,
        [IP_HEADER]: exits[n % exits.length] ?? "",
      },
    };
  }
  // An ordinary Chrome, each request its own device and a random public address, so no
  // rate-limit ladder (IP, subnet, ASN: 300 per 10 minutes) ever sees the run as one client.
  return {
    email,
    headers: {
      "content-type": "application/json",
      "user-agent": `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.${n}.0 Safari/537.36`,
      accept: "application/json",
      "accept-language": "en-GB,en;q=0.9",
      "sec-ch-ua": `"Chromium";v="130", "Google Chrome";v="130", "Not?A_Brand";v="99"`,
      "sec-ch-ua-mobile": "?0",
      "sec-ch-ua-platform": '"Windows"',
      "sec-fetch-mode": "cors",
      "sec-fetch-site": "same-origin",
      "sec-fetch-dest": "empty",
      [IP_HEADER]: publicIp(),
    },
  };
}

/** A random unicast IPv4 address outside the private, documentation and reserved blocks. */
function publicIp(): string {
  const reserved = new Set([0, 10, 100, 127, 169, 172, 192, 198, 203]);
  let first = 0;
  while (reserved.has(first)) first = 1 + Math.floor(Math.random() * 223);
  const octet = () => Math.floor(Math.random() * 256);
  return `${first}.${octet()}.${octet()}.${1 + Math.floor(Math.random() * 254)}`;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return ((s[Math.floor((s.length - 1) / 2)] ?? 0) + (s[Math.ceil((s.length - 1) / 2)] ?? 0)) / 2;
};

/** The demo origin on its own thread (test/support/origin-thread.mjs), and a way to ask it. */
async function startOriginThread(jwksUrl: string) {
  const worker = new Worker(new URL("../support/origin-thread.mjs", import.meta.url), { workerData: { jwksUrl } });
  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (m.type !== type) return;
        worker.off("message", onMessage);
        resolve(m);
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
  const url = String((await next("ready")).url);
  return {
    url,
    async slow(emails: string[], ms: number) {
      const done = next("slow");
      worker.postMessage({ type: "slow", emails, ms });
      await done;
    },
    async accepted(): Promise<Set<string>> {
      const answer = next("accepted");
      worker.postMessage({ type: "accepted" });
      return new Set((await answer).ids as string[]);
    },
    async close() {
      const done = next("close");
      worker.postMessage({ type: "close" });
      await done;
      await worker.terminate();
    },
  };
}

describe("reset timing: forwarded, slow-origin and silently denied resets answer alike", () => {
  let origin: Awaited<ReturnType<typeof startOriginThread>>;
  let gateway: RunningGateway | undefined;
  let persist = "";

  beforeAll(async () => {
    const port = await freePort();
    origin = await startOriginThread(`http://127.0.0.1:${port}/.well-known/jwks.json`);
    persist = mkdtempSync(join(tmpdir(), "riskgate-timing-"));
    gateway = await startGateway({
      port,
      persistTo: persist,
      readyTimeoutMs: 300_000,
      vars: {
        RISKGATE_ENV: "development",
        ORIGIN_URL: origin.url,
        STORE_TIMEOUT_MS: String(TEST_STORE_TIMEOUT_MS),
        // The test names each request's address (one per request, as many clients would).
        TRUSTED_IP_HEADER: IP_HEADER,
        // Measuring only (docs/architecture.md): RISKGATE_TIMING_FLOOR_MS=0 runs without the floor.
        ...(process.env.RISKGATE_TIMING_FLOOR_MS ? { RESET_RESPONSE_FLOOR_MS: process.env.RISKGATE_TIMING_FLOOR_MS } : {}),
      },
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await origin?.close();
    if (persist !== "") rmSync(persist, { recursive: true, force: true });
  });

  it("no two-sample test tells the classes apart (Mann-Whitney U, alpha 0.001)", async () => {
    const base = gateway?.url ?? "";
    const exits = torExits();
    expect(exits.length).toBeGreaterThan(100);
    type Planned = ReturnType<typeof requestOf> & { kind: Kind };
    const send = async ({ kind, email, headers }: Planned) => {
      const started = performance.now();
      const res = await fetch(`${base}/password/reset`, { method: "POST", headers: { ...headers, "x-test-id": email }, body: JSON.stringify({ email }) });
      const body = await res.text();
      return { kind, email, ms: performance.now() - started, status: res.status, body };
    };
    const kinds: Kind[] = ["forwarded", "slow", "denied"];
    const plan = (kind: Kind): Planned => ({ kind, ...requestOf(kind, exits) });
    const warmUp = Array.from({ length: WARM_UP }, (_, i) => plan(kinds[i % 3] as Kind));
    const schedule = shuffle(kinds.flatMap((k) => Array.from({ length: N }, () => plan(k))));
    await origin.slow([...warmUp, ...schedule].filter((p) => p.kind === "slow").map((p) => p.email), SLOW_MS);
    for (const p of warmUp) await send(p);
    const results: Awaited<ReturnType<typeof send>>[] = [];
    // One at a time: concurrent requests would queue behind each other, not behind the origin.
    for (const p of schedule) results.push(await send(p));

    // Every class got the same answer ...
    const answers = new Map<string, number>();
    for (const r of results) {
      const key = `${r.kind} ${r.status} ${r.status === 202 ? r.body : r.body.slice(0, 120)}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    }
    expect(results.filter((r) => r.status !== 202 || r.body !== results[0]?.body), JSON.stringify([...answers])).toEqual([]);
    expect(results[0]?.status).toBe(202);
    // ... and each class is what it claims: the forwarded and slow ones reach the origin
    // (after the response), the denied ones never do.
    await expect.poll(async () => {
      const accepted = await origin.accepted();
      return results.filter((r) => r.kind !== "denied" && !accepted.has(r.email)).length;
    }, { timeout: 120_000, interval: 500 }).toBe(0);
    const accepted = await origin.accepted();
    expect(results.filter((r) => r.kind === "denied" && accepted.has(r.email))).toEqual([]);

    const ms = (kind: Kind) => results.filter((r) => r.kind === kind).map((r) => r.ms);
    const pairs: [Kind, Kind][] = [["forwarded", "denied"], ["slow", "denied"], ["forwarded", "slow"]];
    const report = pairs.map(([a, b]) => {
      const { p, u } = mannWhitneyU(ms(a), ms(b));
      return { pair: `${a} vs ${b}`, medians: [median(ms(a)), median(ms(b))].map((m) => m.toFixed(1)), u, p };
    });
    // The A/A control: the forwarded class split in two at random.
    const halves = shuffle([...ms("forwarded")]);
    const control = mannWhitneyU(halves.slice(0, N / 2), halves.slice(N / 2));
    const line = JSON.stringify({ at: new Date().toISOString(), n: N, alpha: ALPHA, report, control: { pair: "forwarded A/A", p: control.p } });
    if (process.env.RISKGATE_TIMING_REPORT) appendFileSync(process.env.RISKGATE_TIMING_REPORT, `${line}\n`);
    for (const r of report) expect(r.p, `${r.pair}: medians ${r.medians.join(" vs ")} ms (${line})`).toBeGreaterThan(ALPHA);
    // 630 requests one at a time: minutes on a loaded machine. A backstop, not a limit.
  }, 1_200_000);
});
