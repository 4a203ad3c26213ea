// The entry module every benchmarked worker runs under, baselines and riskgate alike, so
// they all pay for the same wrapper. It relays to the bundled worker (`./worker.js`)
// and answers GET /__bench/store-calls with the number of requests it relayed and the
// number of calls that reached the RiskgateStore Durable Object (the experiment monitor's
// periodic tally reads apart, as background calls), counted inside the
// worker so their ratio is exact even when the load stops with requests in flight. Durable Objects of a class defined by the same workerd
// service run in the same isolate, so one module-level counter sees every store round
// trip of the gateway. workerd refuses an `undefined` export, so the store subclass is
// only emitted for workers that export the class.

const RELAY = `import worker from "./worker.js";
let requests = 0;
let storeCalls = 0;
let backgroundCalls = 0;
/** Counts one store round trip (called by the store subclass below, if any). */
export function countStoreCall() {
  storeCalls++;
}
/** Counts one store call no reset made (the experiment monitor's periodic tally read). */
export function countBackgroundCall() {
  backgroundCalls++;
}
export default {
  fetch(request, env, ctx) {
    // A suffix test instead of URL parsing: the wrapper must cost next to nothing.
    if (request.method === "GET" && request.url.endsWith("/__bench/store-calls")) {
      // A store hosted in an isolate of its own counts there; it answers through BENCH_STORE.
      if (env.BENCH_STORE === undefined) return Response.json({ requests, storeCalls, backgroundCalls });
      return env.BENCH_STORE.fetch(request).then((r) => r.json()).then((store) => Response.json({ requests, ...store }));
    }
    requests++;
    return worker.fetch(request, env, ctx);
  },
};
`;

const STORE = `import { RiskgateStore as Base } from "./worker.js";
/**
 * The gateway's store class with a counter on every RPC method its adapter calls:
 * readTallies (the experiment monitor's read, per isolate every 10 s) apart, as a
 * background call; every other method is a store round trip of the request that made it.
 */
export class RiskgateStore extends Base {
  observe(batch) {
    countStoreCall();
    return super.observe(batch);
  }
  recordHistory(update) {
    countStoreCall();
    return super.recordHistory(update);
  }
  penalize(update) {
    countStoreCall();
    return super.penalize(update);
  }
  liftPenalty(lift) {
    countStoreCall();
    return super.liftPenalty(lift);
  }
  tally(...args) {
    countStoreCall();
    return super.tally(...args);
  }
  readTallies(experiment) {
    countBackgroundCall();
    return super.readTallies(experiment);
  }
}
`;

/**
 * The entry of a service that hosts only the store class (`splitDurableObjects`): the same
 * counting subclass, and its counters answered to the worker's entry (binding BENCH_STORE).
 */
const HOSTED_STORE = `let storeCalls = 0;
let backgroundCalls = 0;
function countStoreCall() {
  storeCalls++;
}
function countBackgroundCall() {
  backgroundCalls++;
}
export default { fetch: () => Response.json({ storeCalls, backgroundCalls }) };
${STORE}`;

/** The audit hub Durable Object class, re-exported as is when the bundle has it. */
const AUDIT_HUB = `export { RiskgateAuditHub } from "./worker.js";
`;

/** The entry of a service that hosts one Durable Object class (`splitDurableObjects`). */
export function hostedEntrySource(className) {
  if (className === "RiskgateStore") return HOSTED_STORE;
  return `export { ${className} } from "./worker.js";
export default { fetch: () => new Response("not served here", { status: 404 }) };
`;
}

/**
 * The entry module's source.
 * @param {{ durableObject: boolean, auditHub?: boolean }} options
 * @returns {string}
 */
export function entrySource({ durableObject, auditHub = false }) {
  return durableObject ? `${RELAY}${STORE}${auditHub ? AUDIT_HUB : ""}` : RELAY;
}
