/**
 * The typed context of a request: what the context stage (src/reset/context.ts) builds
 * and every later stage reads, with identifiers already HMAC'd.
 */
import type { RouteSpec } from "../scoring/rules/schema.ts";
import type { ClientHints } from "./client-hints.ts";
import type { ClientIp } from "./client-ip.ts";
import type { DeviceCookie } from "./device-cookie.ts";
import type { DeviceKeyStrength } from "./device-key.ts";
import type { GeoInput } from "./geo.ts";
import type { BodyFields } from "./reset-body.ts";

export { geoFromCf } from "./geo.ts";
export type { GeoInput } from "./geo.ts";

/** Hashed keys for every entity velocity and history are keyed on. */
export interface EntityKeys {
  /** The account as counted: the identifier's velocity form (src/context/account.ts). */
  readonly account: string;
  readonly ip: string | null;
  readonly subnet: string | null;
  /** IPv6 only: the /56 and /48 (src/context/client-ip.ts). */
  readonly net56: string | null;
  readonly net48: string | null;
  /** The signed cookie's device when one was presented, else the browser's shape. */
  readonly device: string;
  readonly asn: string | null;
}

/** The device as the request presents it. */
export interface DeviceContext {
  readonly cookie: DeviceCookie;
  /**
   * Hashed id of the cookie device (presented, or minted for this response). This is
   * what history learns from confirmed outcomes and recognises later; unlike the
   * fingerprint it cannot be adopted by copying a victim's User-Agent.
   */
  readonly cookieKey: string;
  readonly hints: ClientHints;
  /**
   * How many devices the velocity key (`keys.device`) may stand for: `cookie` (one),
   * `network-fingerprint` (the browser's shape on one address: a few), `shape` (no
   * usable address: thousands). Rules count accounts only on the first two.
   */
  readonly keyStrength: DeviceKeyStrength;
}

/** Header facts the anomaly signal reads, each capped before use. */
export interface HeaderContext {
  /** Length of the User-Agent as sent, before the cap. */
  readonly userAgentChars: number;
  readonly acceptLanguage: string | null;
  readonly accept: boolean;
  readonly secFetchMode: boolean;
}

/** Everything later stages may know about the request. */
export interface RequestContext {
  readonly now: number;
  readonly route: RouteSpec;
  readonly ip: ClientIp | null;
  /**
   * The account as history knows it: the identifier's exact form, hashed. History, the
   * signed claims, CAPTCHA passes and experiment draws use it; counts use `keys.account`.
   */
  readonly accountKey: string;
  readonly keys: EntityKeys;
  /** Capped to the rule file's `limits.user_agent_chars` before anything parses it. */
  readonly userAgent: string;
  readonly acceptLanguage: string;
  readonly geo: GeoInput | null;
  readonly device: DeviceContext;
  readonly headers: HeaderContext;
  /** The body to forward, byte for byte. */
  readonly body: Uint8Array;
  /** The body's fields, parsed once (the CAPTCHA step reads its token from them). */
  readonly fields: BodyFields;
}

/** The hashed keys of a client address, computed once (the screen stage, or the context stage). */
export interface AddressKeys {
  readonly ip: string;
  readonly subnet: string;
  readonly net56: string | null;
  readonly net48: string | null;
}
