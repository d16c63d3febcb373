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
  /** Delegation: the human on whose behalf an agent acts (a claim of its session credential). */
  onBehalfOf?: string;
  /** What the credential may do beyond policy (src/identity/scopes.ts); absent = unrestricted. */
  scopes?: CredentialScopes;
  /** When this principal stops being valid (identity, credential or session expiry, the earliest); live streams close then. */
  expiresAt?: string;
  /** A session credential's own id, when the principal came from one (its parent is `credentialId`). */
  sessionId?: string;
  /** The human accountable for this identity (Identity.owner); N-of-M approvals count one vote per person. */
  owner?: string;
}

/** Limits a credential carries on top of policy. */
export interface CredentialScopes {
  /** Only these clusters; absent = any. */
  clusters?: string[];
  /** Only get, list, watch and non-mutating discovery. */
  readOnly?: boolean;
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
  /** The object the request would leave behind (server-side dry run; `null`: nothing, e.g. after a delete). Loaded
   *  only when a rule that could match needs it (src/review/object-context.ts); undefined until then. */
  object?: unknown;
  /** The object as stored before the request (`null`: it does not exist); undefined until loaded. */
  oldObject?: unknown;
  /** The write's options as kube-apiserver resolves them (DeleteOptions from body OR query; classify/options.ts). */
  options?: { dryRun: boolean; gracePeriodSeconds: number | null; propagationPolicy: string };
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
  /** Port-forward: the pod ports the deciding rule allows; every stream to another port is refused. */
  ports?: readonly number[];
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
  | ({
      effect: "review";
      policy: string;
      rule: string;
      message?: string;
      review: ReviewRequirement;
    } & Obligations);

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
  /** The groups the identity acted with (as impersonated upstream), when known; part of the chained record. */
  identityGroups?: string[] | null;
  /** The session credential's justification (`airlock credential --reason`), when there is one. */
  justification?: string | null;
  /** Delegation: the human the agent acted for, when its session credential names one. */
  onBehalfOf?: string | null;
  /** The Airlock session the request belongs to (src/recording/sessions.ts), when the caller was authenticated. */
  sessionId?: string | null;
}

export type AuditCompletion = Pick<AuditEvent, "status" | "bytesIn" | "bytesOut" | "durationMs"> & {
  reason?: string | null;
};

export interface AuditQuery {
  identityName?: string;
  since?: string; // ISO 8601
  limit?: number;
  /** Exact matches on the event's fields (src/audit, admin API audit search). */
  verb?: string;
  resource?: string;
  namespace?: string;
  decision?: AuditEvent["decision"];
  /** Events strictly before this time (ISO 8601). */
  until?: string;
  /** The `nextCursor` of a previous page of auditSearch. */
  cursor?: string;
}

export type IdentityState = "active" | "disabled" | "revoked";

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
  /** The human identity accountable for an agent. */
  owner: string | null;
  description: string;
  /** After this time the identity authenticates no more (and its live streams close). */
  expiresAt: string | null;
  disabledAt: string | null;
  /** revoked (permanent) > disabled (reversible) > active. Expiry is separate: see expiresAt. */
  state: IdentityState;
}

export interface Credential {
  id: string;
  identityId: string;
  /** token: an API token; certificate: an mTLS client certificate issued by Airlock's identity CA. */
  kind: "token" | "certificate";
  /** SHA-256, hex: of the token for tokens, of the DER certificate for certificates. High-entropy inputs, so a fast hash is the right tool. */
  tokenHash: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  scopes: CredentialScopes;
  /** A certificate's serial number (hex). */
  serial: string | null;
}

export interface CredentialOptions {
  name?: string;
  expiresAt?: string | null;
  scopes?: CredentialScopes;
}

export interface IdentityUpdate {
  groups?: string[];
  labels?: Record<string, string>;
  owner?: string | null;
  description?: string;
  expiresAt?: string | null;
}

/**
 * The store. One interface, engines behind it (SQLite now; PostgreSQL later). Writes are durable when the returned
 * promise resolves: the pipeline forwards a request only after `auditBegin` has resolved (write-ahead audit).
 */
export interface Store
  extends ReviewStore,
    AuditChainStore,
    SessionStore,
    DelegationStore,
    ReplicaStateStore {
  auditBegin(event: AuditEvent): Promise<void>;
  auditComplete(id: string, completion: AuditCompletion): Promise<void>;
  auditList(query: AuditQuery): Promise<AuditEvent[]>;

  identityCreate(input: {
    name: string;
    kind: "agent" | "human";
    groups: string[];
    labels?: Record<string, string>;
    owner?: string | null;
    description?: string;
    expiresAt?: string | null;
    /** Options of the first token. */
    token?: CredentialOptions;
  }): Promise<{
    identity: Identity;
    token: string;
    credential: Credential;
  }>;
  identityGet(name: string): Promise<Identity | undefined>;
  identityList(): Promise<Identity[]>;
  identityRevoke(name: string): Promise<Identity | undefined>;
  /** Changes groups, labels, owner, description or expiry; undefined when unknown. A revoked identity is not changed (Conflict). */
  identityUpdate(name: string, update: IdentityUpdate): Promise<Identity | undefined>;
  /** Disables (reversibly) or re-enables an identity; undefined when unknown. A revoked identity stays revoked (Conflict). */
  identitySetDisabled(name: string, disabled: boolean): Promise<Identity | undefined>;
  /** Issues another token for an active identity (rotation). Undefined when the identity is unknown or revoked. */
  credentialCreate(
    identityName: string,
    opts?: CredentialOptions,
  ): Promise<{ credential: Credential; token: string } | undefined>;
  /** Records an issued client certificate (by the SHA-256 of its DER) as a credential. Undefined as credentialCreate. */
  credentialAddCertificate(
    identityName: string,
    cert: { fingerprint: string; serial: string; expiresAt: string; name?: string },
  ): Promise<Credential | undefined>;
  credentialGet(credentialId: string): Promise<Credential | undefined>;
  /** The identity's credentials, oldest first (never a token). Undefined when the identity is unknown. */
  credentialList(identityName: string): Promise<Credential[] | undefined>;
  /** Brings a credential's expiry forward to `expiresAt` (never later than it was): rotation's overlap window. */
  credentialExpireAt(credentialId: string, expiresAt: string): Promise<Credential | undefined>;
  /** Revokes one credential; the identity's other credentials keep working. Undefined when it is unknown. */
  credentialRevoke(credentialId: string): Promise<Credential | undefined>;
  /**
   * Looks up an API token by its SHA-256; only when the token, its credential and its identity are all usable now
   * (not revoked, disabled or expired). Marks it used.
   */
  authenticateToken(tokenHash: string): Promise<{ identity: Identity; credential: Credential } | undefined>;
  /** As authenticateToken, for a client certificate by the SHA-256 of its DER. */
  authenticateCertificate(
    fingerprint: string,
  ): Promise<{ identity: Identity; credential: Credential } | undefined>;
  /** As authenticateToken, by credential id: the check a session credential makes of its parent on every request. */
  authenticateCredentialId(
    credentialId: string,
  ): Promise<{ identity: Identity; credential: Credential } | undefined>;

  close(): Promise<void>;
}

// ── Reviews (DESIGN.md invariant 8; src/review) ──────────────────────────────────────────────────────────────────

export type ReviewState = "pending" | "approved" | "denied" | "expired" | "withdrawn" | "executed";

/** The request a review is bound to, as the reviewer sees it. The body is kept as text (base64 when not UTF-8). */
export interface ReviewedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string;
  body: string;
  bodyEncoding: "utf8" | "base64";
  bodySha256: string;
  action: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  execCommand: string[] | null;
  /** Exec/attach flags as the gateway decoded them (absent on reviews stored before they were recorded). */
  exec?: { container: string; stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } | null;
}

/** What the request would change: a server-side dry run diffed against the current object. */
export interface ReviewPreview {
  /** Unified diff of current → dry-run result, as YAML, Secret values masked. Empty when nothing would change. */
  diff: string;
  /** One line for notifications: "3 lines added, 1 removed" or why there is no diff. */
  summary: string;
  /** For deletes: objects that would be removed with this one (ownerReferences, transitively). */
  dependents: { kind: string; namespace: string; name: string }[];
  /** Why the preview is incomplete, if it is (the dry run failed, the object is too large …). */
  error: string | null;
}

export interface ReviewVote {
  by: string;
  byId: string;
  at: string;
  reason: string;
  /** The person behind the vote: the approver's owner when set, else the approver (N-of-M counts persons). */
  person?: string;
}

/** Who asked for a reviewed request: the identity, the credential it used and the human it acted for. */
export interface ReviewRequester {
  identityId: string;
  name: string;
  kind: string;
  groups: string[];
  /** The credential that sent the request (a token or certificate; a session credential's parent). */
  credentialId?: string;
  /** The session credential, when the request came with one. */
  sessionId?: string;
  /** The human the requester acted for (delegation), when its session credential names one. */
  onBehalfOf?: string | null;
  /** The human accountable for the requesting identity. */
  owner?: string | null;
  /** When the requester's principal stopped being valid (identity, credential or session expiry, the earliest). */
  expiresAt?: string | null;
}

export interface Review {
  id: string;
  fingerprint: string;
  state: ReviewState;
  createdAt: string;
  updatedAt: string;
  /** A pending review expires at this time (the rule's timeout). */
  expiresAt: string;
  /** The chain of who asked (issue 15): none of them may approve the review. */
  requester: ReviewRequester;
  justification: string | null;
  cluster: string;
  policy: string;
  rule: string;
  requirement: ReviewRequirement;
  request: ReviewedRequest;
  approvals: ReviewVote[];
  denial: ReviewVote | null;
  /** After approval: the approval may be used until then. */
  approvedUntil: string | null;
  /** After approval: how many times the approved request may still run (single-use by default). */
  usesLeft: number;
  /** Held (wait-mode) requests currently waiting on this review; the review is withdrawn when the last one leaves. */
  waiters: number;
  preview: ReviewPreview | null;
  /** Why a review ended without a decision (withdrawn: the requester was revoked, disabled, expired, went away). */
  endedReason?: string;
  /** Optimistic concurrency: every save must name the version it read. */
  version: number;
}

export type ReviewEventType =
  | "created"
  | "joined"
  | "notified"
  | "approved"
  | "denied"
  | "expired"
  | "withdrawn"
  | "executed"
  | "previewed";

export interface ReviewEvent {
  seq?: number;
  reviewId: string;
  time: string;
  type: ReviewEventType;
  /** Who caused it: the requester, a reviewer, or "airlock". */
  actor: string;
  detail: string;
}

/** A time-boxed permission granted with an approval: (identity, cluster, verb, resource, namespace) runs unreviewed. */
export interface Grant {
  id: string;
  reviewId: string;
  identityId: string;
  identityName: string;
  cluster: string;
  verb: string;
  apiGroup: string;
  resource: string;
  namespace: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  /** Why the grant ended early: revoked by a reviewer, or its approver or requester was revoked, disabled or expired. */
  endedReason?: string | null;
}

export interface ReviewQuery {
  state?: ReviewState;
  limit?: number;
}

/** The store's share of reviews. Kept apart so the review service can depend on it alone. */
export interface ReviewStore {
  reviewCreate(review: Review): Promise<void>;
  reviewGet(id: string): Promise<Review | undefined>;
  /** Newest first. */
  reviewList(query: ReviewQuery): Promise<Review[]>;
  /** Reviews with this fingerprint in one of `states`, newest first. */
  reviewFind(fingerprint: string, states: ReviewState[]): Promise<Review[]>;
  /** Saves `review` if the stored version is still `review.version - 1`; false when someone else saved first. */
  reviewSave(review: Review): Promise<boolean>;
  reviewEventAppend(event: ReviewEvent): Promise<void>;
  reviewEventList(reviewId: string): Promise<ReviewEvent[]>;
  grantCreate(grant: Grant): Promise<void>;
  grantGet(id: string): Promise<Grant | undefined>;
  /** All grants, newest first; with `activeAt`, only those neither revoked nor expired at that time. */
  grantList(query: { identityId?: string; activeAt?: string }): Promise<Grant[]>;
  /**
   * Revokes a grant (the first revocation time, revoker and reason are kept). `reason` says why it ended when that
   * was not a reviewer's choice (its approver or requester was revoked, disabled or expired). Undefined when unknown.
   */
  grantRevoke(id: string, by: string, reason?: string): Promise<Grant | undefined>;
}

// ── Delegations (issue 15; src/identity/delegation.ts) ──────────────────────────────────────────────────────────

/** A human's consent that an identity (usually an agent) may act on their behalf, until it expires or is revoked. */
export interface Delegation {
  id: string;
  /** The human who delegates, by name and id. */
  human: string;
  humanId: string;
  /** The identity that may act for the human (named by `onBehalfOf` in its session credentials). */
  agent: string;
  agentId: string;
  /** Who created it: the human themself or an admin. */
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

export interface DelegationStore {
  delegationCreate(delegation: Delegation): Promise<void>;
  delegationGet(id: string): Promise<Delegation | undefined>;
  /** Newest first; with `activeAt`, only those neither revoked nor expired at that time. */
  delegationList(query: { human?: string; agent?: string; activeAt?: string }): Promise<Delegation[]>;
  /** Revokes one (the first revocation is kept). Undefined when it is unknown. */
  delegationRevoke(id: string, by: string): Promise<Delegation | undefined>;
}

// ── The tamper-evident audit chain (src/audit, docs/audit.md) ───────────────────────────────────────────────────

/** One chained audit record: a request's begin or completion, or a note. `body` is the exact text hashed. */
export interface AuditRecord {
  seq: number;
  type: string;
  ref: string;
  time: string;
  body: string;
  prevHash: string;
  hash: string;
}

/** A non-request audit event (review steps, identity and policy changes, sessions): one chained record. */
export interface AuditNote {
  /** Dotted lower-case, e.g. "review.approved", "identity.revoked", "policy.changed", "session.started". */
  type: string;
  /** Who caused it: an identity name or "airlock". */
  actor: string;
  /** What it is about: a review id, identity name, policy name, session id. */
  subject: string;
  /** Free-form JSON (strings, integers, booleans, null, arrays, objects; no fractions). */
  detail?: Record<string, unknown>;
  /** Defaults to now. */
  time?: string;
}

/** A signed statement "the chain's record `chainSeq` has hash `chainHash`"; checkpoints are chained to each other. */
export interface AuditCheckpoint {
  seq: number;
  chainSeq: number;
  chainHash: string;
  time: string;
  reason: "periodic" | "retention" | "shutdown" | "manual";
  keyId: string;
  /** SHA-256 of the previous checkpoint's body (64 zeros for the first). */
  prevHash: string;
  /** The canonical JSON that was signed. */
  body: string;
  /** Ed25519 signature over `body`, base64. */
  signature: string;
}

export interface AuditSearchResult {
  items: AuditEvent[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** The store's share of the audit chain. Writes are chained in commit order; listeners run after each commit. */
export interface AuditChainStore {
  /** Appends a chained note; resolves once it is committed. */
  auditNote(note: AuditNote): Promise<AuditRecord>;
  /** The last record, or seq 0 and the genesis hash (or the sealing checkpoint's) when there is none. */
  auditHead(): Promise<{ seq: number; hash: string }>;
  /** Records with afterSeq < seq <= toSeq, in seq order. */
  auditRecords(query: { afterSeq: number; toSeq?: number; limit: number }): Promise<AuditRecord[]>;
  /** The first record at or after a time, for `verify --from TIME`. */
  auditSeqAt(time: string): Promise<number | undefined>;
  /** Request events by id, as stored now (the verifier compares them with their chained records). */
  auditEventsByIds(ids: string[]): Promise<AuditEvent[]>;
  /** Ids of request events that no chained "request" record accounts for (inserted rows). */
  auditUnchained(limit: number): Promise<string[]>;
  auditCheckpointAppend(checkpoint: AuditCheckpoint): Promise<void>;
  /** All checkpoints in seq order. */
  auditCheckpointList(): Promise<AuditCheckpoint[]>;
  /** Deletes records with seq <= throughSeq (and their request events) after storing `seal`, in one transaction. */
  auditPrune(throughSeq: number, seal: AuditCheckpoint): Promise<{ records: number; events: number }>;
  /** The last record written at or before a time, for retention by age. */
  auditLastSeqBefore(time: string): Promise<number | undefined>;
  /** Filtered request events, newest first, with a cursor for the next page. */
  auditSearch(query: AuditQuery): Promise<AuditSearchResult>;
  /** A sink's delivery position (0 when unknown). */
  auditCursorGet(name: string): Promise<number>;
  auditCursorSet(name: string, seq: number): Promise<void>;
  /** Called after every commit that appended records, with the new head; returns an unsubscribe function. */
  auditWatch(listener: (head: { seq: number; hash: string }) => void): () => void;
}

// ── Sessions and recordings (src/recording, docs/recordings.md) ─────────────────────────────────────────────────

/** How a session's requests were grouped: one kubectl invocation, an MCP session, or an identity's idle window. */
export type SessionKind = "kubectl" | "mcp" | "window";

/** A group of requests by one identity on one cluster, with what was decided and recorded. */
export interface SessionRecord {
  id: string;
  kind: SessionKind;
  /** The grouping key (kind, identity, cluster and the Kubectl-Session or MCP id); never shown to clients. */
  key: string;
  identityId: string;
  identityName: string;
  cluster: string;
  startedAt: string;
  /** The last request seen; a session has no explicit end, it is over once idle. */
  lastSeenAt: string;
  requests: number;
  decisions: { allow: number; deny: number; review: number };
  /** The distinct `Kubectl-Command` values seen, in first-seen order: what the client claims, never evidence. */
  commands: string[];
  /** What the gateway decoded: distinct "action resource" pairs ("delete deployments"), first-seen order. */
  actions?: string[];
  /** Requests whose decoded action contradicts their `Kubectl-Command` claim (src/recording/claims.ts). */
  claimMismatches?: string[];
}

export type RecordingKind = "exec" | "attach" | "cp" | "portforward";

/** One recorded stream of a session; its bytes are a file under <dataDir>/recordings/. */
export interface RecordingRecord {
  id: string;
  sessionId: string;
  /** The audit event (request id) of the exec, attach or port-forward. */
  requestId: string;
  kind: RecordingKind;
  /** asciicast: asciicast v2 lines; tar: the raw tar stream of a cp; jsonl: port-forward connection events. */
  format: "asciicast" | "tar" | "jsonl";
  /** The file, relative to the recordings directory. */
  file: string;
  startedAt: string;
  /** Null while running, or when the gateway died before the stream ended (the file is still readable). */
  endedAt: string | null;
  /** Bytes written to the file. */
  bytes: number;
  exitCode: number | null;
  /** The size cap was reached (cp): the file holds only the first `detail.limitBytes` bytes of the stream. */
  truncated: boolean;
  /** Kind-specific facts: the exec argv, tty, port-forward ports/connections/bytes, why writing failed … */
  detail: Record<string, unknown>;
}

export interface SessionQuery {
  identityName?: string;
  /** Sessions active at or after this time (ISO 8601). */
  since?: string;
  limit?: number;
}

/** The store's share of sessions and recordings. */
// ── State several replicas share (issue 16 §7; src/store/replica-state.ts) ────────────────────────────────────

/** A console sign-in session as stored: the SHA-256 of the cookie value, never the value (src/console/sessions.ts). */
export interface ConsoleSessionRow {
  digest: string;
  credentialId: string;
  identityName: string;
  csrfToken: string;
  createdMs: number;
  lastSeenMs: number;
}

export interface ReplicaStateStore {
  /** Saves a new console session; first drops sessions idle or opened before the cut-offs, and the oldest past `max`. */
  consoleSessionCreate(
    session: ConsoleSessionRow,
    keep: { seenSinceMs: number; createdSinceMs: number; max: number },
  ): Promise<void>;
  consoleSessionGet(digest: string): Promise<ConsoleSessionRow | undefined>;
  consoleSessionTouch(digest: string, lastSeenMs: number): Promise<void>;
  consoleSessionDelete(digest: string): Promise<void>;
  /** Ends every console session opened with this credential. */
  consoleSessionDeleteCredential(credentialId: string): Promise<void>;
  /** A shared counter's state (rate limits, sign-in throttles): its version and JSON, or undefined. */
  counterGet(key: string): Promise<{ version: number; state: string } | undefined>;
  /**
   * Compare-and-set: writes `state` (version + 1) only when the row is still at `version` (0: when there is no row
   * yet). True when written; false when another replica wrote first (read again and retry).
   */
  counterSwap(key: string, version: number, state: string, expiresMs: number): Promise<boolean>;
  /** Drops counters that expired before `nowMs`; the number dropped. */
  counterPurge(nowMs: number): Promise<number>;
}

export interface SessionStore {
  /** Inserts or replaces a session (the tracker saves its counters in batches). */
  sessionSave(session: SessionRecord): Promise<void>;
  sessionGet(id: string): Promise<SessionRecord | undefined>;
  /** Newest activity first. */
  sessionList(query: SessionQuery): Promise<SessionRecord[]>;
  /** The most recent session with this key whose last request is at or after `activeSince`. */
  sessionFindRecent(key: string, activeSince: string): Promise<SessionRecord | undefined>;
  /** The session's request events in arrival order (its timeline). */
  sessionEvents(sessionId: string, limit: number): Promise<AuditEvent[]>;
  /** Inserts or replaces a recording's metadata. */
  recordingSave(recording: RecordingRecord): Promise<void>;
  recordingGet(id: string): Promise<RecordingRecord | undefined>;
  /** A session's recordings, oldest first. */
  recordingList(sessionId: string): Promise<RecordingRecord[]>;
}
