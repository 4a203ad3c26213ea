// A path the origin would treat as its reset endpoint must be scored, however it is spelled.
import { describe, expect, it } from "vitest";
import { matchRoute, routeKey } from "../../src/reset/match.ts";
import type { RouteSpec } from "../../src/scoring/rules/schema.ts";

const reset: RouteSpec = { path: "/password/reset", method: "POST", identifier: "email", respond: "uniform" };

describe("route matching", () => {
  it.each(["/password/reset", "/Password/RESET", "/password/reset/", "//password///reset", "/password/reset//"])(
    "%s is the reset route",
    (path) => {
      expect(matchRoute([reset], path)).toBe(reset);
    },
  );

  it.each(["/password/resets", "/password/reset/confirm", "/password", "/", "/passwordreset", "/api/password/reset"])(
    "%s is not",
    (path) => {
      expect(matchRoute([reset], path)).toBeUndefined();
    },
  );

  it("keeps the root path as it is", () => {
    expect(routeKey("/")).toBe("/");
    expect(routeKey("//")).toBe("/");
  });
});
