// The store: one interface made of each owner's share, engines behind it (src/store/sqlite.ts, src/store/pg).

import type { AuditChainStore, AuditLogStore } from "../audit/types.ts";
import type { DelegationStore, IdentityStore } from "../identity/types.ts";
import type { SessionStore } from "../recording/types.ts";
import type { ReviewStore } from "../review/types.ts";

/**
 * The store. One interface, engines behind it (SQLite now; PostgreSQL later). Writes are durable when the returned
 * promise resolves: the pipeline forwards a request only after `auditBegin` has resolved (write-ahead audit).
 */
export interface Store
  extends IdentityStore,
    AuditLogStore,
    ReviewStore,
    AuditChainStore,
    SessionStore,
    DelegationStore,
    ReplicaStateStore {
  close(): Promise<void>;
}

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
