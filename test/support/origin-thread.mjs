// The demo origin on a thread of its own, for the timing test (test/security/timing.browser.test.ts):
// on the test's own event loop, the origin's work for a forwarded reset (verifying its token)
// ran while the client was reading that reset's answer, and showed in the client's time.
import { parentPort, workerData } from "node:worker_threads";
import { startDemoOrigin } from "../../tools/demo-origin.mjs";

const origin = await startDemoOrigin({ port: 0, jwksUrl: workerData.jwksUrl, quiet: true });
parentPort.on("message", async (message) => {
  if (message.type === "slow") {
    for (const email of message.emails) origin.slowAccounts.set(email, message.ms);
    parentPort.postMessage({ type: "slow" });
  } else if (message.type === "accepted") {
    const ids = origin.received.filter((r) => r.accepted).map((r) => r.headers?.["x-test-id"]);
    parentPort.postMessage({ type: "accepted", ids });
  } else if (message.type === "close") {
    await origin.close();
    parentPort.postMessage({ type: "close" });
  }
});
parentPort.postMessage({ type: "ready", url: origin.url });
