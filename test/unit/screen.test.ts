// The screen stage refuses a client this isolate knows to be blocked from its address alone;
// a flood from one refused address is hashed once (the last refused address is remembered),
// and that memory never refuses another address or outlives the block.
import { describe, expect, it } from "vitest";
import { parseIp } from "../../src/context/client-ip.ts";
import { createHasher, type Hasher } from "../../src/context/hmac.ts";
import { screen } from "../../src/reset/screen.ts";
import { penaltyKey } from "../../src/scoring/policy/rate-limit.ts";
import { DurableObjectStore, type StoreNamespace } from "../../src/store/durable-object-store.ts";
import { BlockCache } from "../../src/store/ephemeral.ts";
import { compileShipped } from "./support/rulesets.ts";

const NOW = 1_800_000_000_000;
const ladders = compileShipped().ladders;
/** The screen reads the store's block cache only; any call to the object itself is a bug here. */
const unreachable: StoreNamespace = {
  get: () => {
    throw new Error("the screen made a store call");
  },
  idFromName: () => {
    throw new Error("the screen made a store call");
  },
};

async function parts() {
  const real = await createHasher("screen-test-secret");
  const hashed: string[] = [];
  const hasher: Hasher = {
    hash(kind, value) {
      hashed.push(`${kind}:${value}`);
      return real.hash(kind, value);
    },
  };
  const boxes = new BlockCache();
  const deps = { hasher, store: new DurableObjectStore({ namespace: unreachable, timeoutMs: 1000 }), boxes, ladders };
  const box = async (address: string) => boxes.set(penaltyKey("ip", await real.hash("ip", address)), NOW + 60_000);
  const unbox = async (address: string) => boxes.delete(penaltyKey("ip", await real.hash("ip", address)));
  return { deps, hashed, box, unbox, key: (address: string) => real.hash("ip", address) };
}

describe("screen", () => {
  it("hashes a flooding refused address once, and refuses it on its own key", async () => {
    const { deps, hashed, box, key } = await parts();
    await box("192.0.2.77");
    for (let i = 0; i < 5; i++) {
      const { refusal } = await screen(parseIp("192.0.2.77"), deps, NOW + i);
      expect(refusal?.ladder.step).toBe("penalty");
      expect(refusal?.entity).toBe(await key("192.0.2.77"));
    }
    expect(hashed.filter((h) => h === "ip:192.0.2.77")).toHaveLength(1);
  });

  it("never refuses another address because one was refused last", async () => {
    const { deps, hashed, box } = await parts();
    await box("192.0.2.77");
    expect((await screen(parseIp("192.0.2.77"), deps, NOW)).refusal).not.toBeNull();
    const other = await screen(parseIp("192.0.2.78"), deps, NOW);
    expect(other.refusal).toBeNull();
    expect(other.keys?.ip).not.toBeNull();
    expect(hashed).toContain("ip:192.0.2.78");
    // The remembered address is still the refused one.
    expect((await screen(parseIp("192.0.2.77"), deps, NOW)).refusal).not.toBeNull();
  });

  it("lets the address through once its block is gone, remembered or not", async () => {
    const { deps, box, unbox } = await parts();
    await box("192.0.2.77");
    expect((await screen(parseIp("192.0.2.77"), deps, NOW)).refusal).not.toBeNull();
    await unbox("192.0.2.77");
    const after = await screen(parseIp("192.0.2.77"), deps, NOW);
    expect(after.refusal).toBeNull();
    expect(after.keys?.subnet).not.toBeNull();
  });
});
