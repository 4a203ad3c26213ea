/**
 * The local geo database compiled by `npm run build` (build/geo.bin), bundled into the
 * Worker as a Data module. Decoded on first use only, so a Worker that always has
 * request.cf never pays for it. Worker-only: Node code reads the file instead.
 */
import data from "../../build/geo.bin";
import { type LocalGeo, loadLocalGeo } from "./geo-local.ts";

let geo: LocalGeo | null | undefined;

/** The bundled database, or null when the build included none (RISKGATE_GEO_DATA=none). */
export function bundledGeo(): LocalGeo | null {
  if (geo === undefined) {
    const loaded = loadLocalGeo(data);
    geo = loaded.meta.level === "none" ? null : loaded;
  }
  return geo;
}
