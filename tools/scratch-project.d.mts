// Types for tools/scratch-project.mjs.
/** Copy the project at `root` into `dir` (node_modules linked, build/ not copied); returns `dir`. */
export function scratchProject(root: string, dir: string): string;
