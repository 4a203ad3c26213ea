/**
 * Mapping of riskgate audit events to OCSF 1.3 (the open schema SIEMs ingest).
 * The table in docs/audit.md is the reference; tests pin each class and enum value.
 * riskgate-specific fields that have no OCSF attribute travel in `unmapped.riskgate`,
 * the place OCSF reserves for source data.
 */
import type { Verdict } from "../shared/decision.ts";
import type { AuditEvent, DecisionData, ForwardData, OutcomeData, RateLimitStepData } from "./events.ts";

/** The OCSF schema version the mapping targets. */
export const OCSF_VERSION = "1.3.0";

/** An OCSF event, as plain JSON. */
export type OcsfEvent = Record<string, unknown>;

interface OcsfClass {
  readonly class_uid: number;
  readonly class_name: string;
  readonly category_uid: number;
  readonly category_name: string;
}

const HTTP_ACTIVITY: OcsfClass = { class_uid: 4002, class_name: "HTTP Activity", category_uid: 4, category_name: "Network Activity" };
const ACCOUNT_CHANGE: OcsfClass = { class_uid: 3001, class_name: "Account Change", category_uid: 3, category_name: "Identity & Access Management" };
const AUTHENTICATION: OcsfClass = { class_uid: 3002, class_name: "Authentication", category_uid: 3, category_name: "Identity & Access Management" };
const ENTITY_MANAGEMENT: OcsfClass = { class_uid: 3004, class_name: "Entity Management", category_uid: 3, category_name: "Identity & Access Management" };
const APP_LIFECYCLE: OcsfClass = { class_uid: 6002, class_name: "Application Lifecycle", category_uid: 6, category_name: "Application Activity" };

/** OCSF enum values used here (action_id, disposition_id, status_id, severity_id). */
export const ACTION = { allowed: [1, "Allowed"], denied: [2, "Denied"] } as const;
export const DISPOSITION = {
  allowed: [1, "Allowed"],
  blocked: [2, "Blocked"],
  delayed: [14, "Delayed"],
  captcha: [22, "Captcha"],
  error: [27, "Error"],
} as const;
export const STATUS = { success: [1, "Success"], failure: [2, "Failure"], other: [99, "Other"] } as const;
const SEVERITY = ["Unknown", "Informational", "Low", "Medium", "High", "Critical"] as const;

type Pair = readonly [number, string];

/** Map one event. */
export function toOcsf(event: AuditEvent): OcsfEvent {
  switch (event.type) {
    case "decision":
      return decision(event, event.data);
    case "forward":
      return forward(event, event.data);
    case "challenge.issued":
    case "challenge.solved":
      return challenge(event);
    case "ratelimit.step":
      return rateLimit(event, event.data);
    case "ratelimit.refused":
      return base(event, HTTP_ACTIVITY, [6, "Post"], 3, {
        ...security(ACTION.denied, DISPOSITION.blocked),
        ...status(STATUS.other, `rate limit ${event.data.ladder} ${event.data.step}: ${event.data.count} requests refused`),
        // OCSF base attributes for aggregated events: how many, over which span.
        count: event.data.count,
        start_time: Date.parse(event.data.first_at),
        end_time: Date.parse(event.data.last_at),
      });
    case "outcome.received":
      return outcome(event, event.data);
    case "ruleset.loaded":
    case "key.in_use":
    case "key.rotated":
      return lifecycle(event);
    case "admin.login":
      return base(event, AUTHENTICATION, [1, "Logon"], event.data.success ? 1 : 3, {
        ...status(event.data.success ? STATUS.success : STATUS.failure),
        auth_protocol: "Other",
        auth_protocol_id: 99,
        service: { name: "riskgate admin" },
      });
    case "list.changed": {
      const d = event.data;
      // Entity Management: Create (1) for an added entry, Delete (4) for a removed one.
      return base(event, ENTITY_MANAGEMENT, d.action === "add" ? [1, "Create"] : [4, "Delete"], d.effect === "add" && d.list === "block" ? 3 : 2, {
        ...status(STATUS.success, `${d.action} ${d.kind} ${d.target} ${d.effect === "add" ? "to" : "off"} list ${d.list}: ${d.reason}`),
        entity: { uid: `${d.list}:${d.target}`, name: d.target, type: "reputation_list_entry" },
        comment: d.reason,
      });
    }
    case "penalty.lifted": {
      const d = event.data;
      // Entity Management: Update (3), the key's penalty state cleared.
      return base(event, ENTITY_MANAGEMENT, [3, "Update"], 2, {
        ...status(STATUS.success, `lifted the penalty boxes of ${d.kind} ${d.target} (${d.ladders.join(", ")}): ${d.reason}`),
        entity: { uid: `penalty:${d.kind}:${d.target}`, name: d.target, type: "penalty_box" },
        comment: d.reason,
      });
    }
  }
}

type ChallengeEvent = Extract<AuditEvent, { type: "challenge.issued" | "challenge.solved" }>;

function challenge(event: ChallengeEvent): OcsfEvent {
  if (event.type === "challenge.issued") {
    return base(event, HTTP_ACTIVITY, [6, "Post"], 2, {
      ...security(ACTION.denied, DISPOSITION.captcha),
      ...status(STATUS.other, "challenge issued"),
    });
  }
  const { success, error } = event.data;
  return base(event, HTTP_ACTIVITY, [6, "Post"], success ? 1 : 2, {
    ...(success ? security(ACTION.allowed, DISPOSITION.allowed) : security(ACTION.denied, DISPOSITION.blocked)),
    ...status(success ? STATUS.success : STATUS.failure, error ?? undefined),
  });
}

type LifecycleEvent = Extract<AuditEvent, { type: "ruleset.loaded" | "key.in_use" | "key.rotated" }>;

function signingKey(kid: string): OcsfEvent {
  return { uid: kid, name: kid, type: "decision_signing_key" };
}

function lifecycle(event: LifecycleEvent): OcsfEvent {
  switch (event.type) {
    case "ruleset.loaded":
      return base(event, APP_LIFECYCLE, [3, "Start"], 1, {
        ...status(STATUS.success),
        app: { name: "riskgate", vendor_name: "riskgate", version: event.data.version },
      });
    case "key.in_use":
      return base(event, ENTITY_MANAGEMENT, [10, "Activate"], 1, { ...status(STATUS.success), entity: signingKey(event.data.kid) });
    case "key.rotated":
      return base(event, ENTITY_MANAGEMENT, [3, "Update"], 2, {
        ...status(STATUS.success),
        entity: signingKey(event.data.kid),
        entity_result: signingKey(event.data.previous),
      });
  }
}

function base(event: AuditEvent, cls: OcsfClass, activity: Pair, severity: number, rest: OcsfEvent): OcsfEvent {
  return {
    ...cls,
    activity_id: activity[0],
    activity_name: activity[1],
    type_uid: cls.class_uid * 100 + activity[0],
    type_name: `${cls.class_name}: ${activity[1]}`,
    time: Date.parse(event.ts),
    severity_id: severity,
    severity: SEVERITY[severity] ?? "Unknown",
    metadata: {
      version: OCSF_VERSION,
      uid: event.id,
      correlation_uid: event.decision_id ?? undefined,
      sequence: event.seq,
      log_name: "riskgate.audit",
      product: { name: "riskgate", vendor_name: "riskgate", feature: { name: event.type } },
      profiles: ["security_control"],
    },
    ...rest,
    unmapped: {
      riskgate: {
        type: event.type,
        source: event.source,
        seq: event.seq,
        request_id: event.request_id,
        decision_id: event.decision_id,
        rules: event.rules,
        data: event.data,
      },
    },
  };
}

function security(action: Pair, disposition: Pair): OcsfEvent {
  return { action_id: action[0], action: action[1], disposition_id: disposition[0], disposition: disposition[1] };
}

function status(pair: Pair, detail?: string): OcsfEvent {
  return { status_id: pair[0], status: pair[1], ...(detail === undefined ? {} : { status_detail: detail }) };
}

const VERDICT_SECURITY: Record<Verdict, OcsfEvent> = {
  allow: security(ACTION.allowed, DISPOSITION.allowed),
  challenge: security(ACTION.denied, DISPOSITION.captcha),
  deny: security(ACTION.denied, DISPOSITION.blocked),
};
const VERDICT_SEVERITY: Record<Verdict, number> = { allow: 1, challenge: 2, deny: 3 };

function decision(event: AuditEvent, d: DecisionData): OcsfEvent {
  return base(event, HTTP_ACTIVITY, d.method === "POST" ? [6, "Post"] : [99, d.method], VERDICT_SEVERITY[d.verdict], {
    ...VERDICT_SECURITY[d.verdict],
    ...status(STATUS.success, d.action),
    http_request: { http_method: d.method, url: { path: d.route } },
    src_endpoint: endpoint(d),
    // uid_alt: the account as counted, the HMAC an account block (`account:<HMAC>`) matches.
    actor: { user: { uid: d.account, ...(d.account_counted === undefined ? {} : { uid_alt: d.account_counted }), type: "Other", type_id: 99 } },
  });
}

function endpoint(d: DecisionData): OcsfEvent {
  return {
    // The IP is HMAC'd before it reaches riskgate's records, so it is an opaque uid here.
    ...(d.ip === null ? {} : { uid: d.ip }),
    ...(d.country === null ? {} : { location: { country: d.country } }),
    ...(d.asn === null ? {} : { autonomous_system: { number: d.asn } }),
  };
}

function forward(event: AuditEvent, d: ForwardData): OcsfEvent {
  // A lost reset (accepted by the gateway, never by the origin) is High: a user waits for mail that never comes.
  return base(event, HTTP_ACTIVITY, [6, "Post"], d.ok ? 1 : d.lost ? 4 : 3, {
    ...security(ACTION.allowed, d.ok ? DISPOSITION.allowed : DISPOSITION.error),
    ...status(d.ok ? STATUS.success : STATUS.failure, d.error === null ? undefined : d.lost ? `${d.error} (reset lost after ${d.attempts} attempts)` : d.error),
    dst_endpoint: { svc_name: "origin", hostname: hostOf(d.origin) },
    count: d.attempts,
    ...(d.status === null ? {} : { http_response: { code: d.status } }),
    duration: d.ms,
  });
}

function hostOf(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}

function rateLimit(event: AuditEvent, d: RateLimitStepData): OcsfEvent {
  const security_ =
    d.action === "waived"
      ? security(ACTION.allowed, DISPOSITION.allowed)
      : d.action === "delay"
      ? security(ACTION.allowed, DISPOSITION.delayed)
      : d.action === "challenge"
        ? security(ACTION.denied, DISPOSITION.captcha)
        : security(ACTION.denied, DISPOSITION.blocked);
  return base(event, HTTP_ACTIVITY, [6, "Post"], d.action === "deny" ? 3 : d.action === "waived" ? 1 : 2, {
    ...security_,
    ...status(STATUS.other, `rate limit ${d.ladder} step ${d.step}`),
  });
}

const OUTCOME_STATUS: Record<OutcomeData["outcome"], Pair> = {
  sent: STATUS.other,
  verified: STATUS.other,
  completed: STATUS.success,
  abandoned: STATUS.failure,
  fraud_reported: STATUS.failure,
};

function outcome(event: AuditEvent, d: OutcomeData): OcsfEvent {
  return base(event, ACCOUNT_CHANGE, [4, "Password Reset"], d.outcome === "fraud_reported" ? 4 : 1, {
    ...status(OUTCOME_STATUS[d.outcome], d.outcome),
    ...(d.account === null ? {} : { user: { uid: d.account, type: "Other", type_id: 99 } }),
  });
}
