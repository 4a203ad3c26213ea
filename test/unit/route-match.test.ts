// A path the origin would treat as its reset endpoint must be scored, however it is
// spelled; a spelling only some origins would route there is refused, never passed on.
import { describe, expect, it } from "vitest";
import { matchRoute, rawPath, routeKey } from "../../src/reset/match.ts";
import type { RouteSpec } from "../../src/scoring/rules/schema.ts";

const reset: RouteSpec = { path: "/password/reset", method: "POST", identifier: "email", respond: "uniform" };

describe("route matching", () => {
  it.each([
    "/password/reset",
    "/Password/RESET",
    "/password/reset/",
    "//password///reset",
    "/password/reset//",
    "/password/res%65t",
    "/pass%77ord/reset",
    // Spring drops matrix parameters; Rails and Django take a format suffix.
    "/password/reset;jsessionid=1",
    "/password;x=1/reset",
    "/password/reset.json",
    "/password/reset.xml",
    "/password/reset%2e",
  ])("%s is the reset route", (path) => {
    expect(matchRoute([reset], path)).toEqual({ route: reset });
  });

  it.each([
    "/password/reset%2F",
    "/password%2freset",
    "/password/reset%20",
    "/password/reset%00",
    "/password/reset%09",
    "/password/reset%3F",
    "/password/reset%23",
    "/password/reset%252F",
    "/password/x/..;/reset",
    "/password/x/%2e%2e/reset",
    "/password/re%C5%BFet", // long s: NFKC folds it to s
    "/password/r%E2%80%8Beset", // zero-width space
    "/password\\reset",
    "/password/reset%3Fx=1",
  ])("%s is ambiguous and refused", (path) => {
    expect(matchRoute([reset], path)).toEqual({ ambiguous: reset });
  });

  it.each(["/password/resets", "/password/reset/confirm", "/password", "/", "/passwordreset", "/api/password/reset", "/static/app.js", "/password/reset%2Fconfirm"])(
    "%s is not",
    (path) => {
      expect(matchRoute([reset], path)).toBeUndefined();
    },
  );

  it("keeps the root path as it is", () => {
    expect(routeKey("/")).toBe("/");
    expect(routeKey("//")).toBe("/");
  });

  it.each([
    ["https://g.test/password/reset?x=1", "/password/reset"],
    ["https://g.test//a//b", "//a//b"],
    ["https://g.test", "/"],
    ["http://127.0.0.1:8787/p%2Fq?z", "/p%2Fq"],
  ])("the raw path of %s is %s", (url, path) => {
    expect(rawPath(url)).toBe(path);
  });
});
