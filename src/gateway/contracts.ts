// The types the gateway's pipeline stages pass to one another (DESIGN.md "The pipeline"):
//
//   listen → authenticate → classify → decide → record (write-ahead) → gate → forward → transform → complete
//
// One RequestContext travels through the stages; each stage fills in its part (principal, kube, decision, audit).

/** Who is calling: the result of authentication. */
export interface Principal {
  identityId: string;
  kind: "agent" | "human" | "admin";
  name: string;
  groups: string[];
  labels: Record<string, string>;
  credentialId: string;
  justification?: string;
}

/** kube-apiserver's RequestInfo, as computed by src/gateway/classify. */
export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  parts: string[];
  fieldSelector: string;
  labelSelector: string;
}

/** Exec and attach parameters, parsed from the query of pods/exec and pods/attach. */
export interface ExecInfo {
  command: string[];
  container: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The classified request: RequestInfo plus what policy needs beyond it. */
export interface KubeRequest {
  info: RequestInfo;
  /** The action policy speaks of: the RequestInfo verb, or exec/attach/portforward for those subresources. */
  action: string;
  cluster: string;
  exec?: ExecInfo;
  query: URLSearchParams;
  /** The parsed body of a write (JSON or YAML), when the client sent one the gateway could read. */
  body?: unknown;
}

/** What a `review` rule requires before the request may run (DESIGN.md invariant 8). */
export interface ReviewRequirement {
  /** Humans who may approve: by identity name or group. Never the requester. */
  approvers: { identities: string[]; groups: string[] };
  /** Distinct approvals needed. */
  approvals: number;
  /** wait: hold the request until decided or timed out; retry: answer 403 at once, succeed once after approval. */
  mode: "wait" | "retry";
  timeoutSeconds: number;
}

/** Obligations an allowing decision attaches to the response path. */
export interface Obligations {
  /** The MaskingProfile applied to every response of this request; undefined = no masking. */
  mask?: string;
}

export type Decision =
  | ({ effect: "allow"; policy: string; rule: string } & Obligations)
  | {
      effect: "deny";
      policy: string;
      rule: string;
      message: string;
      /** Set when the denial is a rate limit: answered 429 with Retry-After. */
      retryAfterSeconds?: number;
    }
  | ({ effect: "review"; policy: string; rule: string; message?: string; review: ReviewRequirement } & Obligations);

/** The audit record of one request; written before forwarding, completed after. */
export interface AuditEvent {
  id: string; // the request id
  time: string; // ISO 8601, when the request arrived
  identityId: string | null;
  identityName: string | null;
  identityKind: string | null;
  credentialId: string | null;
  sourceAddress: string;
  userAgent: string;
  kubectlCommand: string | null;
  kubectlSession: string | null;
  cluster: string;
  method: string;
  path: string;
  verb: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  execCommand: string[] | null;
  decision: "allow" | "deny" | "error";
  policy: string | null;
  rule: string | null;
  reason: string | null;
  // Completed after the response:
  status: number | null;
  bytesIn: number | null;
  bytesOut: number | null;
  durationMs: number | null;
  completedAt: string | null;
}

export type AuditCompletion = Pick<AuditEvent, "status" | "bytesIn" | "bytesOut" | "durationMs"> & {
  reason?: string | null;
};

export interface AuditQuery {
  identityName?: string;
  since?: string; // ISO 8601
  limit?: number;
}

/** An identity as stored (never the token itself, only its hash). */
export interface Identity {
  id: string;
  name: string;
  kind: "agent" | "human";
  groups: string[];
  labels: Record<string, string>;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface Credential {
  id: string;
  identityId: string;
  /** SHA-256 of the token, hex. Tokens are high-entropy random strings, so a fast hash is the right tool. */
  tokenHash: string;
  createdAt: string;
  revokedAt: string | null;
}

/**
 * The store. One interface, engines behind it (SQLite now; PostgreSQL later). Writes are durable when the returned
 * promise resolves: the pipeline forwards a request only after `auditBegin` has resolved (write-ahead audit).
 */
export interface Store {
  auditBegin(event: AuditEvent): Promise<void>;
  auditComplete(id: string, completion: AuditCompletion): Promise<void>;
  auditList(query: AuditQuery): Promise<AuditEvent[]>;

  identityCreate(input: {
    name: string;
    kind: "agent" | "human";
    groups: string[];
    labels?: Record<string, string>;
  }): Promise<{
    identity: Identity;
    token: string;
  }>;
  identityGet(name: string): Promise<Identity | undefined>;
  identityList(): Promise<Identity[]>;
  identityRevoke(name: string): Promise<Identity | undefined>;
  /** Issues another token for an active identity (rotation). Undefined when the identity is unknown or revoked. */
  credentialCreate(identityName: string): Promise<{ credential: Credential; token: string } | undefined>;
  /** Revokes one credential; the identity's other credentials keep working. Undefined when it is unknown. */
  credentialRevoke(credentialId: string): Promise<Credential | undefined>;
  /** Looks up an active (not revoked) identity by the SHA-256 of a presented token; marks it used. */
  authenticateToken(tokenHash: string): Promise<{ identity: Identity; credential: Credential } | undefined>;

  close(): Promise<void>;
}
