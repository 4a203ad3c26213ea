/**
 * Admin authentication settings. Development has a documented default token (printed
 * by `npm start`); production serves no admin endpoint until ADMIN_TOKEN or Cloudflare
 * Access (ACCESS_TEAM_DOMAIN + ACCESS_AUD) is configured, and refuses weak settings.
 */
import type { Env } from "../shared/env.ts";
import { ConfigError } from "../shared/errors.ts";

/** The development admin token (README): fine locally, refused in production. */
export const DEV_ADMIN_TOKEN = "riskgate-dev-admin-token";

/** Cloudflare Access application settings. */
export interface AccessConfig {
  /** `https://<team>.cloudflareaccess.com`: issuer of the JWT and home of its keys. */
  readonly teamOrigin: string;
  /** The Access application's AUD tag. */
  readonly aud: string;
}

/** Validated admin settings; both null means admin is disabled. */
export interface AdminConfig {
  readonly token: string | null;
  readonly access: AccessConfig | null;
}

/** Read and check ADMIN_TOKEN and ACCESS_*. */
export function readAdminConfig(env: Env): AdminConfig {
  const development = env.RISKGATE_ENV === "development";
  let token = env.ADMIN_TOKEN !== undefined && env.ADMIN_TOKEN !== "" ? env.ADMIN_TOKEN : null;
  if (token === null && development) token = DEV_ADMIN_TOKEN;
  if (!development && token !== null && (token.length < 32 || token === DEV_ADMIN_TOKEN)) {
    throw new ConfigError("ADMIN_TOKEN must be at least 32 characters and not the development token");
  }
  return { token, access: readAccess(env) };
}

function readAccess(env: Env): AccessConfig | null {
  const domain = env.ACCESS_TEAM_DOMAIN ?? "";
  const aud = env.ACCESS_AUD ?? "";
  if (domain === "" && aud === "") return null;
  if (domain === "" || aud === "") throw new ConfigError("ACCESS_TEAM_DOMAIN and ACCESS_AUD must be set together");
  let origin: URL;
  try {
    origin = new URL(domain.includes("://") ? domain : `https://${domain}`);
  } catch {
    throw new ConfigError("ACCESS_TEAM_DOMAIN must be a host name like myteam.cloudflareaccess.com");
  }
  if (origin.protocol !== "https:") throw new ConfigError("ACCESS_TEAM_DOMAIN must use https");
  return { teamOrigin: origin.origin, aud };
}
