/**
 * The `RESET_QUEUE` message keeps the client's request sealed (docs/architecture.md,
 * "The reset queue holds no readable address"): a failed forward waits on the queue for
 * minutes, and its body holds the email. The client's parts of the job (headers, body,
 * address) are encrypted with AES-256-GCM; the key is derived with HKDF-SHA-256 from
 * ACCOUNT_HMAC_SECRET (so rotating that secret also makes queued resets unreadable: they
 * are then lost, counted), each message has a fresh 96-bit IV, and the decision id is the
 * additional data, so a sealed part cannot be moved to another message.
 */
import type { ForwardJob } from "./forward-job.ts";

/** A RESET_QUEUE message: the job without its client parts, which travel sealed. */
export interface QueuedForward extends Omit<ForwardJob, "headers" | "body" | "clientIp"> {
  /** Base64 strings: a queue's serializer passes strings through untouched. */
  readonly sealed: { readonly iv: string; readonly data: string };
}

/** The client parts of a job, as sealed. */
interface ClientParts {
  readonly headers: ForwardJob["headers"];
  readonly body: string | null;
  readonly clientIp: string | null;
}

const HKDF_SALT = new TextEncoder().encode("riskgate/reset-queue");
const HKDF_INFO = new TextEncoder().encode("riskgate reset queue message v1");

let cached: { secret: string; key: Promise<CryptoKey> } | null = null;

/** The AES-GCM key for queue messages, derived once per isolate from the HMAC secret. */
export function queueKey(hmacSecret: string): Promise<CryptoKey> {
  if (cached?.secret !== hmacSecret) cached = { secret: hmacSecret, key: deriveKey(hmacSecret) };
  return cached.key;
}

async function deriveKey(hmacSecret: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(hmacSecret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: HKDF_INFO },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

const additionalData = (job: Pick<ForwardJob, "decision">) => new TextEncoder().encode(job.decision.id);

/** Seal a job for the queue. */
export async function sealJob(job: ForwardJob, hmacSecret: string): Promise<QueuedForward> {
  const { headers, body, clientIp, ...rest } = job;
  const parts: ClientParts = { headers, body: body === null ? null : toBase64(body), clientIp };
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(job) },
    await queueKey(hmacSecret),
    new TextEncoder().encode(JSON.stringify(parts)),
  );
  return { ...rest, sealed: { iv: toBase64(iv), data: toBase64(new Uint8Array(data)) } };
}

/** Open a queued job; null when it cannot be read (another key, altered, moved or malformed). */
export async function openJob(message: QueuedForward, hmacSecret: string): Promise<ForwardJob | null> {
  try {
    const { sealed, ...rest } = message;
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: additionalData(message) },
      await queueKey(hmacSecret),
      fromBase64(sealed.data),
    );
    const parts = JSON.parse(new TextDecoder().decode(plain)) as ClientParts;
    return { ...rest, headers: parts.headers, body: parts.body === null ? null : fromBase64(parts.body), clientIp: parts.clientIp };
  } catch {
    return null;
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
