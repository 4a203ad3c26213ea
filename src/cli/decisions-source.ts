/**
 * The admin API side of `riskgate decisions export`: `GET /__riskgate/api/decisions/export`
 * page by page. No Node imports (the fetch is passed in), so test/worker/ runs it against
 * the Worker itself.
 */

/** Lines per admin API page. */
const PAGE = 500;
const TIMEOUT_MS = 30_000;

/** Where the export reads: the gateway, its admin token and the fetch to use. */
export interface ExportSource {
  readonly base: string;
  readonly token: string;
  readonly fetch: (input: string, init: RequestInit) => Promise<Response>;
}

/** A gateway that cannot be reached or answered with an error. */
export class ExportError extends Error {
  override readonly name = "ExportError";
}

/**
 * The exported lines, page by page: decision lines (at most `limit`) and their outcome
 * lines, as JSON text. Throws ExportError when the gateway fails.
 */
export async function* exportedLines(src: ExportSource, since: number, limit: number, pageSize = PAGE): AsyncGenerator<{ text: string; decision: boolean }> {
  let cursor: string | null = null;
  let decisions = 0;
  do {
    const url = new URL("/__riskgate/api/decisions/export", src.base);
    url.searchParams.set("since", String(since));
    url.searchParams.set("limit", String(Math.min(pageSize, limit - decisions)));
    if (cursor !== null) url.searchParams.set("cursor", cursor);
    let res: Response;
    try {
      res = await src.fetch(url.toString(), { headers: { authorization: `Bearer ${src.token}`, accept: "application/json" }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ExportError(`cannot reach ${url.origin} (${cause?.code ?? (cause?.message || (err as Error).message)}); is the gateway running? (--url, RISKGATE_URL or PORT)`);
    }
    const body = (await res.json().catch(() => null)) as { lines?: unknown; next?: unknown; error?: { code?: string; message?: string } } | null;
    if (!res.ok || body === null || !Array.isArray(body.lines)) {
      throw new ExportError(`${url.origin} answered ${res.status}${body?.error ? ` ${body.error.code}: ${body.error.message}` : " without export lines (an older gateway?)"}`);
    }
    for (const line of body.lines) {
      const decision = (line as { type?: unknown }).type === "riskgate.decision";
      if (decision) decisions++;
      yield { text: JSON.stringify(line), decision };
    }
    cursor = typeof body.next === "string" ? body.next : null;
  } while (cursor !== null && decisions < limit);
}

