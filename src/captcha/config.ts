/**
 * CAPTCHA configuration from env, checked once per isolate. Development defaults to
 * Cloudflare's always-passing Turnstile test keys (`npm start` points siteverify and the
 * widget script at the local stand-in, tools/turnstile-standin/, since Cloudflare is
 * unreachable offline). Production must bring its own keys, https URLs, and never the
 * test keys: a dummy secret accepts any token.
 */
import type { Env } from "../shared/env.ts";
import { ConfigError } from "../shared/errors.ts";
import { isTurnstileTestKey, PROVIDERS, type ProviderName, type ProviderProfile, TURNSTILE_TEST_KEYS } from "./provider.ts";

/** Validated CAPTCHA configuration. */
export interface CaptchaConfig {
  readonly profile: ProviderProfile;
  readonly siteKey: string;
  readonly secret: string;
  readonly siteverifyUrl: string;
  readonly scriptUrl: string;
  /** Hostnames a token may have been solved on; null: the hostname the request came to. */
  readonly hostnames: readonly string[] | null;
  readonly passSecret: string;
  /** True when the pass secret is the account HMAC secret (a label derives a separate key). */
  readonly passSecretDerived: boolean;
}

function pick(env: Env, generic: "CAPTCHA_SITE_KEY" | "CAPTCHA_SECRET_KEY", turnstile: "TURNSTILE_SITE_KEY" | "TURNSTILE_SECRET_KEY", provider: ProviderName): string {
  const a = env[generic]?.trim() ?? "";
  const b = provider === "turnstile" ? (env[turnstile]?.trim() ?? "") : "";
  if (a !== "" && b !== "" && a !== b) throw new ConfigError(`${generic} and ${turnstile} are both set and differ; set one`);
  return a !== "" ? a : b;
}

function url(env: Env, name: "SITEVERIFY_URL" | "CAPTCHA_SCRIPT_URL", fallback: string, development: boolean): string {
  const text = env[name]?.trim() || fallback;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL`);
  }
  if (parsed.protocol !== "https:" && !(development && parsed.protocol === "http:")) {
    throw new ConfigError(`${name} must be https (http only with RISKGATE_ENV=development)`);
  }
  return parsed.href;
}

function keys(env: Env, name: ProviderName, development: boolean): { siteKey: string; secret: string } {
  let siteKey = pick(env, "CAPTCHA_SITE_KEY", "TURNSTILE_SITE_KEY", name);
  let secret = pick(env, "CAPTCHA_SECRET_KEY", "TURNSTILE_SECRET_KEY", name);
  if (development && name === "turnstile") {
    siteKey ||= TURNSTILE_TEST_KEYS.siteKey;
    secret ||= TURNSTILE_TEST_KEYS.secret;
  }
  if (siteKey === "" || secret === "") {
    const names = name === "turnstile" ? "TURNSTILE_SITE_KEY and TURNSTILE_SECRET_KEY" : "CAPTCHA_SITE_KEY and CAPTCHA_SECRET_KEY";
    throw new ConfigError(`CAPTCHA_PROVIDER=${name} needs ${names} (wrangler secret put), or CAPTCHA_PROVIDER=none`);
  }
  if (!development && name === "turnstile" && (isTurnstileTestKey(siteKey) || isTurnstileTestKey(secret))) {
    throw new ConfigError("Turnstile test keys accept any token and are refused in production");
  }
  return { siteKey, secret };
}

/** Read and check the CAPTCHA settings; null with `CAPTCHA_PROVIDER=none` (challenges cannot be solved). */
export function readCaptchaConfig(env: Env, development: boolean, hmacSecret: string): CaptchaConfig | null {
  const name = env.CAPTCHA_PROVIDER?.trim() || "turnstile";
  if (name === "none") return null;
  if (name !== "turnstile" && name !== "hcaptcha" && name !== "recaptcha") {
    throw new ConfigError(`CAPTCHA_PROVIDER must be turnstile, hcaptcha, recaptcha or none, not "${name}"`);
  }
  const profile = PROVIDERS[name];
  const hostnames = (env.CAPTCHA_HOSTNAMES ?? "").split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
  const passSecret = env.CAPTCHA_PASS_SECRET?.trim() ?? "";
  if (passSecret !== "" && passSecret.length < 32) throw new ConfigError("CAPTCHA_PASS_SECRET must be at least 32 characters");
  return {
    profile,
    ...keys(env, name, development),
    siteverifyUrl: url(env, "SITEVERIFY_URL", profile.siteverifyUrl, development),
    scriptUrl: url(env, "CAPTCHA_SCRIPT_URL", profile.scriptUrl, development),
    hostnames: hostnames.length === 0 ? null : hostnames,
    passSecret: passSecret === "" ? hmacSecret : passSecret,
    passSecretDerived: passSecret === "",
  };
}
