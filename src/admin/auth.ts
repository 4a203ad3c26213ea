/**
 * Admin authentication, checked on every /__riskgate/* request. Accepted credentials:
 *   - `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time;
 *   - a Cloudflare Access JWT (`Cf-Access-Jwt-Assertion` header, or the
 *     `CF_Authorization` cookie), verified with jose against the team's keys: issuer,
 *     audience (the application's AUD tag), expiry and RS256 signature;
 *   - the dashboard session cookie issued by a bearer-token login (session.ts).
 * Cookie credentials on unsafe methods also need a same-origin browser signal, since a
 * cross-site form would carry the cookie too.
 */
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { AccessConfig, AdminConfig } from "./config.ts";
import { secretsEqual } from "../shared/constant-time.ts";
import { createSessions, SESSION_COOKIE, type Sessions } from "./session.ts";

/** Why a request was refused. */
export type AuthFailure =
  | "ADMIN_DISABLED"
  | "MISSING_CREDENTIALS"
  | "BAD_TOKEN"
  | "BAD_SESSION"
  | "ACCESS_JWT_INVALID"
  | "ACCESS_JWT_EXPIRED"
  | "ACCESS_KEYS_UNAVAILABLE"
  | "CROSS_SITE";

/** How a request proved itself, or why it could not. */
export type AuthResult =
  | { readonly ok: true; readonly method: "bearer" | "session" | "access" }
  | { readonly ok: false; readonly code: AuthFailure };

/** The per-isolate authenticator. */
export interface AdminAuth {
  readonly enabled: boolean;
  /** True when the bearer method (and so the login form) is configured. */
  readonly tokenLogin: boolean;
  authenticate(request: Request, nowSeconds: number): Promise<AuthResult>;
  /** A session cookie value for a correct token, null otherwise. */
  login(token: string, nowSeconds: number): Promise<string | null>;
}

/** Test seam: a local key set instead of the team's remote JWKS. */
export interface AdminAuthOptions {
  readonly accessKeys?: JWTVerifyGetKey;
}

/** Header Access adds to every request it lets through. */
export const ACCESS_HEADER = "cf-access-jwt-assertion";
const ACCESS_COOKIE = "CF_Authorization";

/** Parse a Cookie header. */
export function cookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** A browser says the request comes from our own pages. */
function sameOrigin(request: Request): boolean {
  if (request.method === "GET" || request.method === "HEAD") return true;
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) return site === "same-origin";
  return request.headers.get("origin") === new URL(request.url).origin;
}

/** What checking needs, built once per isolate. */
interface AuthState {
  readonly token: string | null;
  readonly access: AccessConfig | null;
  readonly sessions: Sessions | null;
  readonly keys: JWTVerifyGetKey | null;
}

async function verifyAccess(state: AuthState, jwt: string): Promise<AuthResult> {
  const { access, keys } = state;
  if (access === null || keys === null) return { ok: false, code: "ACCESS_JWT_INVALID" };
  try {
    await jwtVerify(jwt, keys, { issuer: access.teamOrigin, audience: access.aud, algorithms: ["RS256"] });
    return { ok: true, method: "access" };
  } catch (err) {
    if (err instanceof errors.JWTExpired) return { ok: false, code: "ACCESS_JWT_EXPIRED" };
    // A key set we cannot fetch fails closed, named so the operator can tell it apart.
    if (!(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout) {
      return { ok: false, code: "ACCESS_KEYS_UNAVAILABLE" };
    }
    return { ok: false, code: "ACCESS_JWT_INVALID" };
  }
}

async function authenticate(state: AuthState, request: Request, nowSeconds: number): Promise<AuthResult> {
  const { token, access, sessions } = state;
  if (token === null && access === null) return { ok: false, code: "ADMIN_DISABLED" };
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const given = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    const ok = given !== undefined && token !== null && (await secretsEqual(given, token));
    return ok ? { ok: true, method: "bearer" } : { ok: false, code: "BAD_TOKEN" };
  }
  const header = request.headers.get(ACCESS_HEADER);
  if (header !== null) return verifyAccess(state, header);
  const jar = cookies(request.headers.get("cookie"));
  const accessCookie = jar.get(ACCESS_COOKIE);
  const session = jar.get(SESSION_COOKIE);
  if (accessCookie === undefined && session === undefined) return { ok: false, code: "MISSING_CREDENTIALS" };
  if (!sameOrigin(request)) return { ok: false, code: "CROSS_SITE" };
  if (accessCookie !== undefined && access !== null) return verifyAccess(state, accessCookie);
  const valid = session !== undefined && sessions !== null && (await sessions.valid(session, nowSeconds));
  return valid ? { ok: true, method: "session" } : { ok: false, code: "BAD_SESSION" };
}

/** Build the authenticator for `config`. */
export async function createAdminAuth(config: AdminConfig, options: AdminAuthOptions = {}): Promise<AdminAuth> {
  const { token, access } = config;
  const state: AuthState = {
    token,
    access,
    sessions: token === null ? null : await createSessions(token),
    keys:
      access === null
        ? null
        : (options.accessKeys ??
          createRemoteJWKSet(new URL("/cdn-cgi/access/certs", access.teamOrigin), { timeoutDuration: 3_000 })),
  };
  return {
    enabled: token !== null || access !== null,
    tokenLogin: token !== null,
    authenticate: (request, nowSeconds) => authenticate(state, request, nowSeconds),
    async login(given, nowSeconds) {
      if (token === null || state.sessions === null || !(await secretsEqual(given, token))) return null;
      return state.sessions.issue(nowSeconds);
    },
  };
}
