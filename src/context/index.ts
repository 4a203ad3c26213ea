/**
 * request -> typed context. The only stage that reads HTTP: later stages see this
 * object, with identifiers already HMAC'd.
 */
import type { RouteSpec } from "../rules/schema.ts";
import { normaliseIdentifier } from "./account.ts";
import { type ClientIp, clientIp } from "./client-ip.ts";
import type { Hasher } from "./hmac.ts";
import { RiskgateError } from "../errors.ts";
import { readResetBody } from "./reset-body.ts";

/** Geo as the platform (request.cf) or a local database reports it. */
export interface GeoInput {
  readonly country: string;
  readonly region: string;
  readonly asn: number;
  readonly asOrg: string;
  readonly lat: number | null;
  readonly lon: number | null;
}

/** Hashed keys for every entity velocity and history are keyed on. */
export interface EntityKeys {
  readonly account: string;
  readonly ip: string | null;
  readonly subnet: string | null;
  readonly device: string;
  readonly asn: string | null;
}

/** Everything later stages may know about the request. */
export interface RequestContext {
  readonly now: number;
  readonly route: RouteSpec;
  readonly ip: ClientIp | null;
  readonly keys: EntityKeys;
  /** Capped to the rule file's `limits.user_agent_chars` before anything parses it. */
  readonly userAgent: string;
  readonly acceptLanguage: string;
  readonly geo: GeoInput | null;
  /** The body to forward, byte for byte. */
  readonly body: Uint8Array;
}

/** What building a context needs besides the request. */
export interface ContextDeps {
  readonly hasher: Hasher;
  readonly now: number;
  readonly trustedIpHeader: string | null;
  readonly bodyLimit: number;
  readonly userAgentLimit: number;
  readonly geo: GeoInput | null;
}

/** Build the context of a reset request; throws typed 4xx errors on bad input. */
export async function buildContext(
  request: Request,
  route: RouteSpec,
  deps: ContextDeps,
): Promise<RequestContext> {
  const body = await readResetBody(request, route.identifier, deps.bodyLimit);
  const identifier = normaliseIdentifier(body.identifier);
  if (identifier === null) {
    throw new RiskgateError("ERR_IDENTIFIER_MISSING", `field "${route.identifier}" is required`);
  }
  const ip = clientIp(request.headers, deps.trustedIpHeader);
  const userAgent = (request.headers.get("user-agent") ?? "").slice(0, deps.userAgentLimit);
  const acceptLanguage = (request.headers.get("accept-language") ?? "").slice(0, 256);
  const { hasher } = deps;
  const [account, ipKey, subnet, device] = await Promise.all([
    hasher.hash("account", identifier),
    ip === null ? null : hasher.hash("ip", ip.address),
    ip === null ? null : hasher.hash("subnet", ip.subnet),
    // Until a signed device cookie is presented, the device is the browser's shape.
    hasher.hash("device", `${userAgent}\u0000${acceptLanguage}`),
  ]);
  return {
    now: deps.now,
    route,
    ip,
    keys: {
      account,
      ip: ipKey,
      subnet,
      device,
      asn: deps.geo === null || deps.geo.asn === 0 ? null : `asn:${deps.geo.asn}`,
    },
    userAgent,
    acceptLanguage,
    geo: deps.geo,
    body: body.raw,
  };
}

/** Geo from Cloudflare's `request.cf`, when the platform provides it. */
export function geoFromCf(cf: IncomingRequestCfProperties | undefined): GeoInput | null {
  if (cf === undefined || typeof cf.country !== "string") return null;
  const num = (v: unknown) => (typeof v === "string" || typeof v === "number" ? Number(v) : Number.NaN);
  const lat = num(cf.latitude);
  const lon = num(cf.longitude);
  return {
    country: cf.country,
    region: typeof cf.regionCode === "string" ? cf.regionCode : "",
    asn: typeof cf.asn === "number" ? cf.asn : 0,
    asOrg: typeof cf.asOrganization === "string" ? cf.asOrganization : "",
    lat: Number.isFinite(lat) ? lat : null,
    lon: Number.isFinite(lon) ? lon : null,
  };
}
