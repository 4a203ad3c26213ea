// Compile rules/lists/*.txt and the local geo data into build/lists.bin and
// build/geo.bin, which the Worker bundles. Run by tools/build-rules.mjs (npm run build).
// Options (environment): RISKGATE_GEO_DATA=full|country|none, RISKGATE_GEO_MMDB=path,
// RISKGATE_ASN_MMDB=path (docs/signals.md).
import { register } from "tsx/esm/api";

register();
const { buildDataFromEnv } = await import("../src/cli/data/build.ts");
process.exitCode = await buildDataFromEnv();
