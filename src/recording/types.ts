// Sessions and recordings (docs/recordings.md), and the store's share of them.
import type { AuditEvent } from "../audit/types.ts";

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

/** The sessions table (store.sessions). */
export interface SessionTable {
  /** Inserts or replaces a session (the tracker saves its counters in batches). */
  save(session: SessionRecord): Promise<void>;
  get(id: string): Promise<SessionRecord | undefined>;
  /** Newest activity first. */
  list(query: SessionQuery): Promise<SessionRecord[]>;
  /** The most recent session with this key whose last request is at or after `activeSince`. */
  findRecent(key: string, activeSince: string): Promise<SessionRecord | undefined>;
  /** The session's request events in arrival order (its timeline). */
  events(sessionId: string, limit: number): Promise<AuditEvent[]>;
}

/** The recordings' metadata (store.recordings); the bytes are files. */
export interface RecordingTable {
  /** Inserts or replaces a recording's metadata. */
  save(recording: RecordingRecord): Promise<void>;
  get(id: string): Promise<RecordingRecord | undefined>;
  /** A session's recordings, oldest first. */
  list(sessionId: string): Promise<RecordingRecord[]>;
}

/** The store's share of sessions and recordings. */
export interface SessionStore {
  sessions: SessionTable;
  recordings: RecordingTable;
}
