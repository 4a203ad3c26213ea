/**
 * The layout's rules (docs/architecture.md, "The map"), checked by `npm test` (step
 * "layers"). Layers, top to bottom; a module may import from its own layer and the
 * layers below it, never above:
 *
 *   entry      src/index.ts, src/app.ts
 *   gateway    src/gateway/        per-isolate wiring (the composition root)
 *   routes     src/reset/ src/outcomes/ src/admin/
 *   features   src/captcha/ src/challenge/ src/audit/ src/metrics/
 *   scoring    src/scoring/        verdict.ts > policy/ experiments/ > rules/ > signals/
 *   context    src/context/        the request context the scoring reads
 *   adapters   src/store/ src/origin/
 *   shared     src/shared/
 *
 * src/cli/ is a separate Node program: it may import anything but the Worker's entry,
 * wiring and routes.
 */
const layers = [
  ["entry", "^src/(index|app)\\.ts$"],
  ["gateway", "^src/gateway/"],
  ["routes", "^src/(reset|outcomes|admin)/"],
  ["features", "^src/(captcha|challenge|audit|metrics)/"],
  ["scoring", "^src/scoring/"],
  ["context", "^src/context/"],
  ["adapters", "^src/(store|origin)/"],
  ["shared", "^src/shared/"],
];

/** Layer i may not import any layer above it. */
const layerRules = layers.slice(1).map(([name, path], i) => ({
  name: `layer-${name}`,
  comment: `${name} must not import from the layers above it (${layers
    .slice(0, i + 1)
    .map(([n]) => n)
    .join(", ")}): move the shared type down instead`,
  severity: "error",
  from: { path },
  to: { path: layers.slice(0, i + 1).map(([, p]) => p) },
}));

/** Inside scoring: signals < rules < policy, experiments < verdict.ts. */
const scoring = [
  ["scoring-signals", "^src/scoring/signals/", "^src/scoring/(rules|policy|experiments|verdict\\.ts)"],
  ["scoring-rules", "^src/scoring/rules/", "^src/scoring/(policy|experiments|verdict\\.ts)"],
  ["scoring-policy-experiments", "^src/scoring/(policy|experiments)/", "^src/scoring/verdict\\.ts"],
].map(([name, from, to]) => ({
  name,
  comment: "scoring's own order: signals < rules < policy, experiments < verdict.ts",
  severity: "error",
  from: { path: from },
  to: { path: to },
}));

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import cycles, type-only imports included: a type cycle is a layering mistake too.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    ...scoring,
    {
      name: "cli-not-the-worker",
      comment: "The CLI is a Node program: it may not import the Worker's entry, wiring or routes.",
      severity: "error",
      from: { path: "^src/cli/" },
      to: { path: "^src/((index|app)\\.ts|gateway/|reset/|outcomes/|admin/)" },
    },
    {
      name: "worker-not-the-cli",
      comment: "The Worker never imports the CLI.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "no-orphans",
      comment: "A module nothing imports is dead code (entry points and declaration files aside).",
      severity: "error",
      from: {
        orphan: true,
        pathNot: ["\\.d\\.ts$", "^src/index\\.ts$", "^src/cli/main\\.ts$", "^src/admin/dashboard/client/main\\.ts$"],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".mjs", ".js"] },
  },
};
