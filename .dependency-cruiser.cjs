/**
 * The layout's rules (docs/architecture.md, "The map"), checked by `npm test` (step
 * "layers"). Layers, top to bottom; a module may import from its own layer and the
 * layers below it, never above:
 *
 *   entry      src/index.ts, src/app.ts
 *   gateway    src/gateway/        per-isolate wiring (the composition root)
 *   routes     src/reset/ src/outcomes/ src/admin/
 *   features   src/captcha/ src/challenge/ src/audit/ src/metrics/
 *   scoring    src/scoring/        verdict.ts > ruleset/ > policy/ experiments/ > signals/ > rules/
 *   context    src/context/        the request context the scoring reads
 *   adapters   src/store/ src/origin/
 *   shared     src/shared/
 *
 * src/cli/ is a separate Node program: it may import anything but the Worker's entry,
 * wiring and routes.
 *
 * There are no known violations and no baseline: every import must follow these rules.
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

/**
 * Two type-only exceptions, each a contract rather than a dependency: the routes read the
 * `Gateway` interface (the wiring satisfies it, src/gateway/gateway.ts), and the request
 * context carries the matched route's spec (`RouteSpec`, from the rule file's schema).
 */
const typeOnlyUp = {
  routes: "^src/gateway/gateway\\.ts$",
  context: "^src/scoring/rules/schema\\.ts$",
};

/** Layer i may not import any layer above it. */
const layerRules = layers.slice(1).flatMap(([name, path], i) => {
  const above = layers.slice(0, i + 1);
  const rule = {
    name: `layer-${name}`,
    comment: `${name} must not import from the layers above it (${above.map(([n]) => n).join(", ")}): move the shared type down instead`,
    severity: "error",
    from: { path },
    to: { path: above.map(([, p]) => p) },
  };
  const allowed = typeOnlyUp[name];
  if (allowed === undefined) return [rule];
  return [
    { ...rule, to: { ...rule.to, pathNot: allowed } },
    { ...rule, name: `layer-${name}-type-only`, to: { path: allowed, dependencyTypesNot: ["type-only"] } },
  ];
});

/**
 * Inside scoring, bottom to top: rules/ (the rule file's schema, its compiled parts, rule
 * evaluation) < signals/ < policy/, experiments/ < ruleset/ (composes the rule set) < verdict.ts.
 */
const scoring = [
  ["scoring-rules", "^src/scoring/rules/", "^src/scoring/(signals/|policy/|experiments/|ruleset/|verdict\\.ts)"],
  ["scoring-signals", "^src/scoring/signals/", "^src/scoring/(policy/|experiments/|ruleset/|verdict\\.ts)"],
  ["scoring-policy-experiments", "^src/scoring/(policy|experiments)/", "^src/scoring/(ruleset/|verdict\\.ts)"],
  ["scoring-ruleset", "^src/scoring/ruleset/", "^src/scoring/verdict\\.ts"],
].map(([name, from, to]) => ({
  name,
  comment: "scoring's own order: rules < signals < policy, experiments < ruleset < verdict.ts",
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
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".mjs", ".js"] },
  },
};
