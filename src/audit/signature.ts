/**
 * Webhook signatures: `Riskgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256>` over
 * `<t>.<body>`, the scheme Stripe and others use. The timestamp inside the MAC lets the
 * receiver reject replays older than its tolerance. docs/audit.md has a receiver recipe.
 */
import { equalBytes } from "../shared/constant-time.ts";

/** Header carrying the signature. */
export const SIGNATURE_HEADER = "Riskgate-Signature";

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The header value for `body` signed at `nowSeconds`. */
export async function signBody(secret: string, body: string, nowSeconds: number): Promise<string> {
  return `t=${nowSeconds},v1=${await hmacHex(secret, `${nowSeconds}.${body}`)}`;
}

/** Why a signature was refused. */
export type SignatureFailure = "SIGNATURE_MALFORMED" | "SIGNATURE_STALE" | "SIGNATURE_MISMATCH";

/** Check a header value; `null` means valid. */
export async function verifyBody(
  secret: string,
  body: string,
  header: string | null,
  nowSeconds: number,
  toleranceSeconds = 300,
): Promise<SignatureFailure | null> {
  const parts = new Map((header ?? "").split(",").map((p) => p.trim().split("=", 2) as [string, string]));
  const t = Number(parts.get("t"));
  const given = parts.get("v1");
  if (!Number.isInteger(t) || given === undefined || !/^[0-9a-f]{64}$/.test(given)) return "SIGNATURE_MALFORMED";
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return "SIGNATURE_STALE";
  const expected = await hmacHex(secret, `${t}.${body}`);
  return equalBytes(encoder.encode(given), encoder.encode(expected)) ? null : "SIGNATURE_MISMATCH";
}
