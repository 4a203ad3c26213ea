/** The admin API's JSON body reading, shared by its write endpoints. */
import type { Context } from "hono";
import { readCapped } from "../context/reset-body.ts";
import { RiskgateError } from "../shared/errors.ts";

/** A JSON object body (capped at 4 KiB); 400 otherwise. */
export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const raw = new TextDecoder().decode(await readCapped(c.req.raw, 4096));
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new RiskgateError("ERR_BAD_REQUEST", "send a JSON object");
}

/** The value when it is a string. */
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
