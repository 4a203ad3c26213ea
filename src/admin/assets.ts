/**
 * The dashboard's browser assets, compiled from src/admin/dashboard/ by
 * tools/build-dashboard.mjs into build/dashboard.json and bundled into the Worker.
 * No CDN, no network: everything the page loads comes from here.
 */
import built from "../../build/dashboard.json" with { type: "json" };

/** The build artefact's shape. */
export interface DashboardAssets {
  readonly version: string;
  readonly files: Readonly<Record<string, string>>;
}

const assets = built as DashboardAssets;

/** Content hash of the assets, used to bust caches. */
export const ASSETS_VERSION = assets.version;

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** An asset by file name (`main.js`, `style.css`), or null. */
export function asset(name: string): { body: string; type: string } | null {
  if (!Object.hasOwn(assets.files, name)) return null;
  const type = TYPES[name.split(".").pop() ?? ""];
  const body = assets.files[name];
  return type === undefined || body === undefined ? null : { body, type };
}
