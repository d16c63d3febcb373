// The store: one interface made of each owner's share, engines behind it (src/store/sqlite.ts, src/store/pg).

import type { AuditStore } from "../audit/types.ts";
import type { DelegationStore, IdentityStore } from "../identity/types.ts";
import type { SessionStore } from "../recording/types.ts";
import type { ReviewStore } from "../review/types.ts";

/**
 * The store: one object per table family, each typed by its owner (identity/, review/, audit/, recording/), so a
 * domain module depends on its share (`IdentityStore & DelegationStore`, `AuditStore`, …) and never on src/store.
 * Both engines build the same tables (src/store/tables.ts). Writes are durable when the returned promise resolves.
 */
export interface Store extends IdentityStore, DelegationStore, ReviewStore, AuditStore, SessionStore {
  consoleSessions: ConsoleSessionTable;
  counters: CounterTable;
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

/** Console sign-in sessions several replicas share (store.consoleSessions; issue 16 §7). */
export interface ConsoleSessionTable {
  /** Saves a new console session; first drops sessions idle or opened before the cut-offs, and the oldest past `max`. */
  create(
    session: ConsoleSessionRow,
    keep: { seenSinceMs: number; createdSinceMs: number; max: number },
  ): Promise<void>;
  get(digest: string): Promise<ConsoleSessionRow | undefined>;
  touch(digest: string, lastSeenMs: number): Promise<void>;
  delete(digest: string): Promise<void>;
  /** Ends every console session opened with this credential. */
  deleteForCredential(credentialId: string): Promise<void>;
}

/** Compare-and-set counters several replicas share: rate limits, sign-in throttles (store.counters). */
export interface CounterTable {
  /** A shared counter's state (rate limits, sign-in throttles): its version and JSON, or undefined. */
  get(key: string): Promise<{ version: number; state: string } | undefined>;
  /**
   * Compare-and-set: writes `state` (version + 1) only when the row is still at `version` (0: when there is no row
   * yet). True when written; false when another replica wrote first (read again and retry).
   */
  swap(key: string, version: number, state: string, expiresMs: number): Promise<boolean>;
  /** Drops counters that expired before `nowMs`; the number dropped. */
  purge(nowMs: number): Promise<number>;
}
