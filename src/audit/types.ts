// Audit events, the tamper-evident chain's records and checkpoints (docs/audit.md), and the store's share of them.

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
  /** The `nextCursor` of a previous page of audit.search. */
  cursor?: string;
}

/** The audit log (store.audit): request events, the hash chain, notes, checkpoints, sink positions. Writes are durable when the promise resolves: the pipeline forwards a request only after `begin` resolved (write-ahead audit); chained writes are in commit order and listeners run after each commit. */
export interface AuditTable {
  begin(event: AuditEvent): Promise<void>;
  complete(id: string, completion: AuditCompletion): Promise<void>;
  list(query: AuditQuery): Promise<AuditEvent[]>;
  /** Appends a chained note; resolves once it is committed. */
  note(note: AuditNote): Promise<AuditRecord>;
  /** The last record, or seq 0 and the genesis hash (or the sealing checkpoint's) when there is none. */
  head(): Promise<{ seq: number; hash: string }>;
  /** Records with afterSeq < seq <= toSeq, in seq order. */
  records(query: { afterSeq: number; toSeq?: number; limit: number }): Promise<AuditRecord[]>;
  /** The first record at or after a time, for `verify --from TIME`. */
  seqAt(time: string): Promise<number | undefined>;
  /** Request events by id, as stored now (the verifier compares them with their chained records). */
  eventsByIds(ids: string[]): Promise<AuditEvent[]>;
  /** Ids of request events that no chained "request" record accounts for (inserted rows). */
  unchained(limit: number): Promise<string[]>;
  appendCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
  /** All checkpoints in seq order. */
  checkpoints(): Promise<AuditCheckpoint[]>;
  /** Deletes records with seq <= throughSeq (and their request events) after storing `seal`, in one transaction. */
  prune(throughSeq: number, seal: AuditCheckpoint): Promise<{ records: number; events: number }>;
  /** The last record written at or before a time, for retention by age. */
  lastSeqBefore(time: string): Promise<number | undefined>;
  /** Filtered request events, newest first, with a cursor for the next page. */
  search(query: AuditQuery): Promise<AuditSearchResult>;
  /** A sink's delivery position (0 when unknown). */
  cursorGet(name: string): Promise<number>;
  cursorSet(name: string, seq: number): Promise<void>;
  /** Called after every commit that appended records, with the new head; returns an unsubscribe function. */
  watch(listener: (head: { seq: number; hash: string }) => void): () => void;
  /**
   * Group-commit counts since the store opened: `batches` transactions the chain writer ran (committed or not),
   * `writes` chained writes they carried. Fewer batches than writes is concurrent requests sharing one commit.
   */
  commitStats(): CommitStats;
}

/** The store's share of the audit log: what audit/ and every module that writes notes needs of it. */
export interface AuditStore {
  audit: AuditTable;
}

/** What a module that only writes notes needs (identity, review, admin policy changes). */
export interface AuditNotes {
  audit: Pick<AuditTable, "note">;
}

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

/** Everything the audit module reads and writes. */

/** See AuditTable.commitStats. */
export interface CommitStats {
  batches: number;
  writes: number;
}
