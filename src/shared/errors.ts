/**
 * Typed errors with stable codes (in the manner of jose's error tree). They become
 * HTTP responses in exactly one place: `errorResponse` below, used by the app's
 * `onError` handler.
 */

/** Stable error codes; `switch (err.code)` narrows. */
export type ErrorCode =
  | "ERR_CONFIG"
  | "ERR_BODY_TOO_LARGE"
  | "ERR_BODY_MALFORMED"
  | "ERR_BODY_INCOMPLETE"
  | "ERR_BODY_AMBIGUOUS"
  | "ERR_PATH_AMBIGUOUS"
  | "ERR_UNSUPPORTED_MEDIA_TYPE"
  | "ERR_IDENTIFIER_MISSING"
  | "ERR_METHOD_NOT_ALLOWED"
  | "ERR_UNAUTHORIZED"
  | "ERR_FORBIDDEN"
  | "ERR_ADMIN_DISABLED"
  | "ERR_NOT_FOUND"
  | "ERR_BAD_REQUEST"
  | "ERR_OUTCOME_INVALID"
  | "ERR_OUTCOME_SIGNATURE"
  | "ERR_ACCOUNTS_INVALID"
  | "ERR_ACCOUNTS_SIGNATURE"
  | "ERR_DECISION_UNKNOWN"
  | "ERR_OUTCOMES_DISABLED"
  | "ERR_STORE_UNAVAILABLE";

const STATUS: Record<ErrorCode, number> = {
  ERR_CONFIG: 500,
  ERR_BODY_TOO_LARGE: 413,
  ERR_BODY_MALFORMED: 400,
  ERR_BODY_INCOMPLETE: 400,
  ERR_BODY_AMBIGUOUS: 400,
  ERR_PATH_AMBIGUOUS: 400,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_IDENTIFIER_MISSING: 400,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_ADMIN_DISABLED: 503,
  ERR_NOT_FOUND: 404,
  ERR_BAD_REQUEST: 400,
  ERR_OUTCOME_INVALID: 400,
  ERR_OUTCOME_SIGNATURE: 401,
  ERR_ACCOUNTS_INVALID: 400,
  ERR_ACCOUNTS_SIGNATURE: 401,
  ERR_DECISION_UNKNOWN: 422,
  ERR_OUTCOMES_DISABLED: 503,
  ERR_STORE_UNAVAILABLE: 503,
};

/** Base error: a code, an HTTP status and a message safe to show the client. */
export class RiskgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "RiskgateError";
    this.code = code;
    this.status = STATUS[code];
    this.headers = headers;
  }
}

/** Thrown once, when configuration is unusable (e.g. a missing secret in production). */
export class ConfigError extends RiskgateError {
  constructor(message: string) {
    super("ERR_CONFIG", message);
    this.name = "ConfigError";
  }
}

/** The one place an error becomes a response. Unknown errors never leak details. */
export function errorResponse(err: unknown): Response {
  if (err instanceof RiskgateError) {
    // Configuration errors name the problem for the operator, but only in the log.
    const message = err instanceof ConfigError ? "gateway misconfigured" : err.message;
    return Response.json(
      { error: { code: err.code, message } },
      { status: err.status, headers: err.headers },
    );
  }
  return Response.json(
    { error: { code: "ERR_INTERNAL", message: "internal error" } },
    { status: 500 },
  );
}
