/**
 * The store call of an allowed reset, taken apart (bench/store-call.mjs; BENCHMARKS.md,
 * "The Upstash call"). One request to this worker runs `n` store calls in a row, one mode:
 *   floor          (f)'s call: fetch of a small INCR, a header object, `res.json()`
 *   floor-signal   the same with an `AbortSignal.timeout` per call, as the adapter has
 *   body           the observe EVALSHA's own body and reply (prebuilt string), no signal
 *   body-signal    the same with the signal
 *   body-ctl       the same bounded by an AbortController, a setTimeout and its clearTimeout
 *   body-hdr       `body` with one prebuilt Headers object instead of a header record
 *   adapter        `UpstashStore.observe` itself: batch, fetch, parse, block cache
 *   adapter-ref    the same for the adapter at `--ref <commit>` (bench/store-call.mjs)
 * Each call's keys differ (a counter in the account, IP, subnet and device keys), so no
 * rate limit ever trips and the block cache never answers in place of Redis.
 */
import type { ObserveRequest } from "../../src/store/port.ts";
import { observeCall } from "../../src/store/upstash-batch.ts";
import { OBSERVE_SCRIPT } from "../../src/store/upstash-scripts.ts";
import { UpstashStore } from "../../src/store/upstash.ts";
// bench/store-call.mjs points this at the adapter of `--ref` (else at the tree's own).
import { UpstashStore as RefStore } from "riskgate-ref-upstash";
import template from "./store-call-request.json";

type Bindings = { readonly UPSTASH_REDIS_REST_URL: string; readonly UPSTASH_REDIS_REST_TOKEN: string };

const TEMPLATE = JSON.stringify(template);
let prepared: ObserveRequest[] = [];
let bodies: string[] = [];
let store: UpstashStore | null = null;
let refStore: UpstashStore | null = null;
let sharedHeaders: Headers | null = null;

function prepare(n: number, run: number): void {
  const now = Date.now();
  prepared = [];
  bodies = [];
  for (let i = 0; i < n; i++) {
    const tag = `${run}x${i}`.padStart(10, "0");
    const text = TEMPLATE.replace(/([A-Za-z]{12})[A-Za-z0-9]{10}(?=")/g, (_, head: string) => `${head}${tag}`);
    const request = { ...(JSON.parse(text) as ObserveRequest), now };
    prepared.push(request);
    const call = observeCall(request);
    if (call === null) throw new Error("empty batch");
    bodies.push(JSON.stringify(["EVALSHA", OBSERVE_SCRIPT.sha1, String(call.keys.length), ...call.keys, ...call.args]));
  }
}

export default {
  async fetch(req: Request, env: Bindings): Promise<Response> {
    const u = new URL(req.url);
    const n = Number(u.searchParams.get("n"));
    const mode = u.searchParams.get("mode") ?? "";
    if (mode === "prepare") {
      prepare(n, Number(u.searchParams.get("run")));
      return new Response(String(bodies[0]?.length ?? 0));
    }
    const options = { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, timeoutMs: 2000 };
    store ??= new UpstashStore(options);
    refStore ??= new RefStore(options) as UpstashStore;
    const headers = { authorization: `Bearer ${env.UPSTASH_REDIS_REST_TOKEN}`, "content-type": "application/json" };
    let replyBytes = 0;
    for (let i = 0; i < n; i++) {
      if (mode.startsWith("adapter")) {
        const request = prepared[i];
        if (request === undefined) throw new Error("not prepared");
        const result = await (mode === "adapter-ref" ? refStore : store).observe(request);
        if (result.blocked !== null) throw new Error("blocked: the keys repeat");
        continue;
      }
      const small = mode.startsWith("floor");
      const body = small ? JSON.stringify(["INCR", `bench:f:${i % 1000}`]) : bodies[i % bodies.length];
      let signal: AbortSignal | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (mode.endsWith("-signal")) signal = AbortSignal.timeout(2000);
      if (mode.endsWith("-ctl")) {
        const controller = new AbortController();
        timer = setTimeout(() => controller.abort(), 2000);
        signal = controller.signal;
      }
      sharedHeaders ??= new Headers(headers);
      const res = await fetch(env.UPSTASH_REDIS_REST_URL, { method: "POST", headers: mode.endsWith("-hdr") ? sharedHeaders : headers, body, signal });
      if (!res.ok) throw new Error(`store answered ${res.status}: ${await res.text()}`);
      const reply = await res.json();
      if (timer !== undefined) clearTimeout(timer);
      if (i === 0) replyBytes = JSON.stringify(reply).length;
    }
    return new Response(String(replyBytes));
  },
};
