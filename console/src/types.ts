// The admin API's shapes as the console reads them (a subset of the owners' types files, src/*/types.ts; kept here because the
// console is bundled for the browser and must not import server modules).
export interface ReviewedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string;
  body: string;
  bodyEncoding: "utf8" | "base64";
  action: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  execCommand: string[] | null;
  /** Exec flags as the gateway decoded them (absent on older reviews). */
  exec?: { container: string; stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } | null;
}

export interface Review {
  id: string;
  state: string;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  requester: {
    name: string;
    kind: string;
    groups: string[];
    onBehalfOf?: string | null;
    credentialId?: string;
    sessionId?: string;
  };
  endedReason?: string;
  justification: string | null;
  cluster: string;
  policy: string;
  rule: string;
  requirement: { approvers: { identities: string[]; groups: string[] }; approvals: number; mode: string };
  request: ReviewedRequest;
  approvals: { by: string; at: string; reason: string }[];
  denial: { by: string; at: string; reason: string } | null;
  approvedUntil: string | null;
  waiters: number;
  preview: {
    diff: string;
    summary: string;
    dependents: { kind: string; namespace: string; name: string }[];
    error: string | null;
  } | null;
}

export interface ReviewEvent {
  time: string;
  type: string;
  actor: string;
  detail: string;
}

export interface AuditEvent {
  id: string;
  time: string;
  identityName: string | null;
  identityKind: string | null;
  sourceAddress: string;
  userAgent: string;
  kubectlCommand: string | null;
  cluster: string;
  method: string;
  path: string;
  verb: string;
  apiGroup: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  execCommand: string[] | null;
  decision: string;
  policy: string | null;
  rule: string | null;
  reason: string | null;
  status: number | null;
  durationMs: number | null;
  justification?: string | null;
  sessionId?: string | null;
}

export interface Identity {
  id: string;
  name: string;
  kind: "agent" | "human";
  groups: string[];
  labels: Record<string, string>;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  disabledAt: string | null;
  owner: string | null;
  description: string;
  state: "active" | "disabled" | "revoked";
}

export interface SessionRecord {
  id: string;
  kind: string;
  identityName: string;
  cluster: string;
  startedAt: string;
  lastSeenAt: string;
  requests: number;
  decisions: { allow: number; deny: number; review: number };
  commands: string[];
  /** What the gateway decoded ("delete deployments"); `commands` are only what the client claimed. */
  actions?: string[];
  /** Claims the decoded actions contradict. */
  claimMismatches?: string[];
  recordings?: number | RecordingRecord[];
}

export interface RecordingRecord {
  id: string;
  requestId: string;
  kind: string;
  format: string;
  startedAt: string;
  endedAt: string | null;
  bytes: number;
  exitCode: number | null;
  truncated: boolean;
  detail: Record<string, unknown>;
}
