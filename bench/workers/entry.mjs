// The entry module every benchmarked worker runs under, baselines and riskgate alike, so
// they all pay for the same wrapper. It relays to the bundled worker (`./worker.js`)
// and answers GET /__bench/store-calls with the number of requests it relayed and the
// number of calls that reached the RiskgateStore Durable Object, both counted inside the
// worker so their ratio is exact even when the load stops with requests in flight. Durable Objects of a class defined by the same workerd
// service run in the same isolate, so one module-level counter sees every store round
// trip of the gateway. workerd refuses an `undefined` export, so the store subclass is
// only emitted for workers that export the class.

const RELAY = `import worker from "./worker.js";
let requests = 0;
let storeCalls = 0;
/** Counts one store round trip (called by the store subclass below, if any). */
export function countStoreCall() {
  storeCalls++;
}
export default {
  fetch(request, env, ctx) {
    // A suffix test instead of URL parsing: the wrapper must cost next to nothing.
    if (request.method === "GET" && request.url.endsWith("/__bench/store-calls")) {
      return Response.json({ requests, storeCalls });
    }
    requests++;
    return worker.fetch(request, env, ctx);
  },
};
`;

const STORE = `import { RiskgateStore as Base } from "./worker.js";
/** The gateway's store class with a counter on every RPC method its adapter calls. */
export class RiskgateStore extends Base {
  observe(batch) {
    countStoreCall();
    return super.observe(batch);
  }
  recordHistory(update) {
    countStoreCall();
    return super.recordHistory(update);
  }
}
`;

/** The audit hub Durable Object class, re-exported as is when the bundle has it. */
const AUDIT_HUB = `export { RiskgateAuditHub } from "./worker.js";
`;

/**
 * The entry module's source.
 * @param {{ durableObject: boolean, auditHub?: boolean }} options
 * @returns {string}
 */
export function entrySource({ durableObject, auditHub = false }) {
  return durableObject ? `${RELAY}${STORE}${auditHub ? AUDIT_HUB : ""}` : RELAY;
}
