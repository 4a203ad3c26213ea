/** tools/list-sources-standin.mjs: the local stand-in for live list sources and a CrowdSec LAPI. */
export function startListSourcesStandin(options?: { port?: number; dir?: string | null; quiet?: boolean }): Promise<{ url: string; close: () => Promise<void> }>;
