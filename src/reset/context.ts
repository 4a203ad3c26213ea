/**
 * The context stage: request -> typed context (src/context/index.ts). The only stage
 * that reads HTTP: later stages see this object, with identifiers already HMAC'd.
 */
import { canonicalIdentifier } from "../context/account.ts";
import { readClientHints } from "../context/client-hints.ts";
import { type ClientIp, clientIp, UNPARSEABLE_ADDRESS_KEY } from "../context/client-ip.ts";
import { deviceCookie } from "../context/device-cookie.ts";
import { browserShape, deviceKeyMaterial, tlsFingerprint } from "../context/device-key.ts";
import type { GeoResolver } from "../context/geo.ts";
import type { Hasher } from "../context/hmac.ts";
import type { AddressKeys, DeviceContext, RequestContext } from "../context/index.ts";
import { readResetBody } from "../context/reset-body.ts";
import type { RouteSpec } from "../scoring/rules/schema.ts";
import { RiskgateError } from "../shared/errors.ts";

/** What building a context needs besides the request. */
export interface ContextDeps {
  readonly hasher: Hasher;
  readonly now: number;
  readonly trustedIpHeader: string | null;
  readonly bodyLimit: number;
  readonly userAgentLimit: number;
  /** Resolves geo from request.cf and/or the local database (src/context/geo.ts). */
  readonly geo: GeoResolver;
  /**
   * The client address as the screen stage parsed it, and its keys when the screen hashed
   * them (same hasher), so neither is done twice. Absent: parsed and hashed here.
   */
  readonly address?: { readonly ip: ClientIp | null; readonly keys: AddressKeys | null };
  /** Proxies in front of riskgate that append to the trusted header (config `TRUSTED_PROXY_HOPS`). */
  readonly trustedProxyHops?: number;
}

const MAX_ACCEPT_LANGUAGE = 256;

/** Build the context of a reset request; throws typed 4xx errors on bad input. */
export async function buildContext(
  request: Request,
  route: RouteSpec,
  deps: ContextDeps,
): Promise<RequestContext> {
  const body = await readResetBody(request, route.identifier, deps.bodyLimit);
  const identifier = canonicalIdentifier(body.identifier);
  if (identifier === null) {
    throw new RiskgateError("ERR_IDENTIFIER_MISSING", `field "${route.identifier}" is required`);
  }
  const { headers } = request;
  const ip = deps.address === undefined ? clientIp(headers, deps.trustedIpHeader, deps.trustedProxyHops) : deps.address.ip;
  const address = deps.address?.keys ?? (await addressKeys(ip, deps.hasher));
  const rawUa = headers.get("user-agent") ?? "";
  const userAgent = rawUa.slice(0, deps.userAgentLimit);
  const rawLanguage = headers.get("accept-language");
  const acceptLanguage = (rawLanguage ?? "").slice(0, MAX_ACCEPT_LANGUAGE);
  const geo = deps.geo(request.cf as IncomingRequestCfProperties | undefined, ip);
  const { hasher } = deps;
  const [accountKey, account, device] = await Promise.all([
    hasher.hash("account", identifier.exact),
    identifier.velocity === identifier.exact ? null : hasher.hash("account", identifier.velocity),
    readDevice(headers, hasher, userAgent, acceptLanguage, ip, request.cf),
  ]);
  return {
    now: deps.now,
    route,
    ip,
    accountKey,
    keys: {
      account: account ?? accountKey,
      ip: address.ip,
      subnet: address.subnet,
      net56: address.net56,
      net48: address.net48,
      device: device.velocityKey,
      asn: geo === null || geo.asn === 0 ? null : `asn:${geo.asn}`,
    },
    userAgent,
    acceptLanguage,
    geo,
    device: device.context,
    headers: {
      userAgentChars: rawUa.length,
      acceptLanguage: rawLanguage === null ? null : acceptLanguage,
      accept: headers.has("accept"),
      secFetchMode: headers.has("sec-fetch-mode"),
    },
    body: body.raw,
    fields: body.fields,
  };
}

/**
 * The device: its signed cookie (verified, or minted for the response), client hints,
 * and the key velocity counts it under, with that key's strength (src/context/device-key.ts).
 */
async function readDevice(
  headers: Headers,
  hasher: Hasher,
  userAgent: string,
  acceptLanguage: string,
  ip: ClientIp | null,
  cf: unknown,
): Promise<{ context: DeviceContext; velocityKey: string }> {
  const cookie = await deviceCookie(headers, hasher);
  const { strength, material } = deviceKeyMaterial(
    cookie.state === "valid",
    browserShape(headers, userAgent, acceptLanguage, tlsFingerprint(cf)),
    ip,
  );
  const [cookieKey, fingerprintKey] = await Promise.all([
    hasher.hash("device", `cookie:${cookie.id}`),
    // A client that drops cookies gets a fresh id every time; velocity must still see it
    // as one device, so without a valid cookie its fingerprint (on its network) is the key.
    material === null ? null : hasher.hash("device", material),
  ]);
  return {
    context: { cookie, cookieKey, hints: readClientHints(headers), keyStrength: strength },
    velocityKey: fingerprintKey ?? cookieKey,
  };
}

/** The address keys shared by every request without a usable address: counted, never skipped. */
const UNPARSEABLE: AddressKeys = { ip: UNPARSEABLE_ADDRESS_KEY, subnet: UNPARSEABLE_ADDRESS_KEY, net56: null, net48: null };

/** Hash the keys of `ip` (null: the shared unparseable key). */
export async function addressKeys(ip: ClientIp | null, hasher: Hasher): Promise<AddressKeys> {
  if (ip === null) return UNPARSEABLE;
  const [key, subnet, net56, net48] = await Promise.all([
    hasher.hash("ip", ip.address),
    hasher.hash("subnet", ip.subnet),
    ip.net56 === null ? null : hasher.hash("net56", ip.net56),
    ip.net48 === null ? null : hasher.hash("net48", ip.net48),
  ]);
  return { ip: key, subnet, net56, net48 };
}
