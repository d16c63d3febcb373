// Mapping between SQL rows and the store's types. Engine-neutral: a PostgreSQL engine with the same column names
// reuses it. Rows that do not have the expected shape throw: a corrupt row must not become a half-filled identity.
import type { AuditEvent } from "../audit/types.ts";
import type { Credential, CredentialScopes, Identity } from "../identity/types.ts";

type Row = Record<string, unknown>;

function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new Error(`store: column ${column} is not text`);
  return value;
}

function textOrNull(row: Row, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw new Error(`store: column ${column} is not text`);
  return value;
}

function intOrNull(row: Row, column: string): number | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "number") throw new Error(`store: column ${column} is not an integer`);
  return value;
}

function json<T>(row: Row, column: string, check: (v: unknown) => v is T): T {
  const value: unknown = JSON.parse(text(row, column));
  if (!check(value)) throw new Error(`store: column ${column} has an unexpected shape`);
  return value;
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string");
const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((s) => typeof s === "string");

const isScopes = (v: unknown): v is CredentialScopes => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const s = v as Record<string, unknown>;
  return (
    Object.keys(s).every((k) => k === "clusters" || k === "readOnly") &&
    (s.clusters === undefined || isStringArray(s.clusters)) &&
    (s.readOnly === undefined || typeof s.readOnly === "boolean")
  );
};

export function identityFromRow(row: Row): Identity {
  const kind = text(row, "kind");
  if (kind !== "agent" && kind !== "human") throw new Error(`store: identity kind ${kind} is unknown`);
  const revokedAt = textOrNull(row, "revoked_at");
  const disabledAt = textOrNull(row, "disabled_at");
  return {
    id: text(row, "id"),
    name: text(row, "name"),
    kind,
    groups: json(row, "groups_json", isStringArray),
    labels: json(row, "labels_json", isStringMap),
    createdAt: text(row, "created_at"),
    revokedAt,
    lastUsedAt: textOrNull(row, "last_used_at"),
    owner: textOrNull(row, "owner"),
    description: text(row, "description"),
    expiresAt: textOrNull(row, "expires_at"),
    disabledAt,
    state: revokedAt !== null ? "revoked" : disabledAt !== null ? "disabled" : "active",
    defaultNamespace: textOrNull(row, "default_namespace"),
  };
}

export function credentialFromRow(row: Row): Credential {
  const kind = text(row, "kind");
  if (kind !== "token" && kind !== "certificate")
    throw new Error(`store: credential kind ${kind} is unknown`);
  return {
    id: text(row, "id"),
    identityId: text(row, "identity_id"),
    kind,
    tokenHash: text(row, "token_hash"),
    name: text(row, "name"),
    createdAt: text(row, "created_at"),
    revokedAt: textOrNull(row, "revoked_at"),
    expiresAt: textOrNull(row, "expires_at"),
    lastUsedAt: textOrNull(row, "last_used_at"),
    scopes: json(row, "scopes_json", isScopes),
    serial: textOrNull(row, "serial"),
  };
}

/** The audit columns in insert order, paired with how each is read from an AuditEvent. */
export const AUDIT_COLUMNS: ReadonlyArray<[string, (e: AuditEvent) => string | number | null]> = [
  ["id", (e) => e.id],
  ["time", (e) => e.time],
  ["time_ms", (e) => Date.parse(e.time)],
  ["identity_id", (e) => e.identityId],
  ["identity_name", (e) => e.identityName],
  ["identity_kind", (e) => e.identityKind],
  ["credential_id", (e) => e.credentialId],
  ["source_address", (e) => e.sourceAddress],
  ["user_agent", (e) => e.userAgent],
  ["kubectl_command", (e) => e.kubectlCommand],
  ["kubectl_session", (e) => e.kubectlSession],
  ["cluster", (e) => e.cluster],
  ["method", (e) => e.method],
  ["path", (e) => e.path],
  ["verb", (e) => e.verb],
  ["api_group", (e) => e.apiGroup],
  ["api_version", (e) => e.apiVersion],
  ["namespace", (e) => e.namespace],
  ["resource", (e) => e.resource],
  ["subresource", (e) => e.subresource],
  ["name", (e) => e.name],
  ["exec_command_json", (e) => (e.execCommand ? JSON.stringify(e.execCommand) : null)],
  ["decision", (e) => e.decision],
  ["policy", (e) => e.policy],
  ["rule", (e) => e.rule],
  ["reason", (e) => e.reason],
  ["status", (e) => e.status],
  ["bytes_in", (e) => e.bytesIn],
  ["bytes_out", (e) => e.bytesOut],
  ["duration_ms", (e) => e.durationMs],
  ["completed_at", (e) => e.completedAt],
  ["justification", (e) => e.justification ?? null],
  ["on_behalf_of", (e) => e.onBehalfOf ?? null],
  ["identity_groups_json", (e) => (e.identityGroups ? JSON.stringify(e.identityGroups) : null)],
  ["session_id", (e) => e.sessionId ?? null],
];

/** Optional audit fields are present only when set, so events without them read back exactly as written. */
function optionalAuditFields(row: Row): Pick<AuditEvent, "justification" | "onBehalfOf" | "sessionId"> {
  const out: Pick<AuditEvent, "justification" | "onBehalfOf" | "sessionId"> = {};
  const justification = textOrNull(row, "justification");
  const onBehalfOf = textOrNull(row, "on_behalf_of");
  const sessionId = textOrNull(row, "session_id");
  if (justification !== null) out.justification = justification;
  if (onBehalfOf !== null) out.onBehalfOf = onBehalfOf;
  if (sessionId !== null) out.sessionId = sessionId;
  return out;
}

export function auditFromRow(row: Row): AuditEvent {
  const decision = text(row, "decision");
  if (decision !== "allow" && decision !== "deny" && decision !== "error") {
    throw new Error(`store: audit decision ${decision} is unknown`);
  }
  const exec = textOrNull(row, "exec_command_json");
  return {
    id: text(row, "id"),
    time: text(row, "time"),
    identityId: textOrNull(row, "identity_id"),
    identityName: textOrNull(row, "identity_name"),
    identityKind: textOrNull(row, "identity_kind"),
    credentialId: textOrNull(row, "credential_id"),
    sourceAddress: text(row, "source_address"),
    userAgent: text(row, "user_agent"),
    kubectlCommand: textOrNull(row, "kubectl_command"),
    kubectlSession: textOrNull(row, "kubectl_session"),
    cluster: text(row, "cluster"),
    method: text(row, "method"),
    path: text(row, "path"),
    verb: text(row, "verb"),
    apiGroup: text(row, "api_group"),
    apiVersion: text(row, "api_version"),
    namespace: text(row, "namespace"),
    resource: text(row, "resource"),
    subresource: text(row, "subresource"),
    name: text(row, "name"),
    execCommand: exec === null ? null : json(row, "exec_command_json", isStringArray),
    decision,
    policy: textOrNull(row, "policy"),
    rule: textOrNull(row, "rule"),
    reason: textOrNull(row, "reason"),
    status: intOrNull(row, "status"),
    bytesIn: intOrNull(row, "bytes_in"),
    bytesOut: intOrNull(row, "bytes_out"),
    durationMs: intOrNull(row, "duration_ms"),
    completedAt: textOrNull(row, "completed_at"),
    ...optionalAuditFields(row),
    ...(textOrNull(row, "identity_groups_json") === null
      ? {}
      : { identityGroups: json(row, "identity_groups_json", isStringArray) }),
  };
}
