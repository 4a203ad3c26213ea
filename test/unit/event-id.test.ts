// Audit event ids (src/shared/event-id.ts): UUIDv7, the event's time first, so ids made
// later sort later as text (what keeps the audit hub's id index growing at its end).
import { describe, expect, it } from "vitest";
import { eventId } from "../../src/shared/event-id.ts";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The 48-bit ms timestamp at the front of a UUIDv7. */
const timeOf = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

describe("eventId", () => {
  it("is a UUIDv7 (RFC 9562) whose first 48 bits are the given time in ms", () => {
    for (const ms of [0, 1, 1_764_720_000_000, Date.now(), 0xffff_ffff_ffff]) {
      const id = eventId(ms);
      expect(id).toMatch(V7);
      expect(timeOf(id)).toBe(ms);
    }
  });

  it("ids of later times sort later as text; ids of one ms differ", () => {
    const start = 1_764_720_000_000;
    const ids = Array.from({ length: 2_000 }, (_, i) => eventId(start + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 10; i < ids.length; i += 10) expect((ids[i - 1] as string) < (ids[i] as string)).toBe(true);
    expect(ids.slice(0, 10).every((id) => timeOf(id) === start)).toBe(true);
  });

  it("keeps 74 random bits: the parts after the time vary", () => {
    const ids = Array.from({ length: 200 }, () => eventId(1_764_720_000_000));
    expect(new Set(ids.map((id) => id.slice(15, 18))).size).toBeGreaterThan(100);
    expect(new Set(ids.map((id) => id.slice(24))).size).toBe(200);
  });

  it("clamps times outside the 48 bits the format holds", () => {
    expect(timeOf(eventId(-5))).toBe(0);
    expect(timeOf(eventId(2 ** 50))).toBe(0xffff_ffff_ffff);
    expect(eventId(1.7)).toMatch(/^00000000-0001-7/);
  });
});
