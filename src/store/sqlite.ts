// The embedded store: one SQLite file in the data directory (node:sqlite, WAL).
//
// Fail closed: every write commits before its promise resolves, so a resolved `auditBegin` is committed (write-ahead
// audit, DESIGN.md invariant 3): in the WAL, which survives a gateway crash, with durability "commit"
// (synchronous=NORMAL); and fsync'd, which also survives power loss, with "fsync" (docs/audit.md). A failed write (read-only file, closed handle, full disk) rejects. The one write
// that is allowed to fail quietly is the "last used" timestamp: it is advisory, and an unwritable store must still
// refuse requests with 503 at the audit step rather than 401 at authentication.
// Tokens are never stored, only SHA-256 hashes (invariant 7); a hash is found by index and then re-compared in
// constant time.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type {
  AuditCheckpoint,
  AuditCompletion,
  AuditEvent,
  AuditNote,
  AuditQuery,
  AuditRecord,
  AuditSearchResult,
} from "../audit/types.ts";
import type {
  Credential,
  CredentialOptions,
  Delegation,
  Identity,
  IdentityUpdate,
} from "../identity/types.ts";
import type { RecordingRecord, SessionQuery, SessionRecord } from "../recording/types.ts";
import type { Grant, Review, ReviewEvent, ReviewQuery, ReviewState } from "../review/types.ts";
import { SqliteAuditTables } from "./audit.ts";
import type { AuditDurability } from "./audit-writer.ts";
import { SqliteDelegationTables } from "./delegations.ts";
import { databaseFileGuard } from "./faults.ts";
import { SqliteIdentityTables } from "./identities.ts";
import { SqliteReplicaStateTables } from "./replica-state.ts";
import { SqliteReviewTables } from "./reviews.ts";
import { migrate, SCHEMA_VERSION } from "./schema.ts";
import { SqliteSessionTables } from "./sessions.ts";
import type { ConsoleSessionRow, Store } from "./types.ts";

export interface SqliteStoreOptions {
  /** The database file, or ":memory:" for a throw-away store. */
  path: string;
  /** Open an existing database without write access: reads work, every write rejects. */
  readOnly?: boolean;
  /** The clock, in epoch milliseconds (tests move it). */
  now?: () => number;
  /** "Last used" is written at most this often per credential, so authentication does not cost a sync per request. */
  lastUsedResolutionMs?: number;
  /**
   * "commit" (default): committed to the WAL before a write resolves, survives a gateway crash; an OS crash or power
   * loss may lose the last transactions. "fsync": also fsync'd before a request's audit record resolves.
   */
  durability?: AuditDurability;
}

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

type Row = Record<string, unknown>;

/** How long a statement waits for another process's lock before it fails (see the constructor). */
export const BUSY_TIMEOUT_MS = 1000;

export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #lastUsedResolutionMs: number;
  readonly #reviews: SqliteReviewTables;
  readonly #delegations: SqliteDelegationTables;
  readonly #identities: SqliteIdentityTables;
  readonly #audit: SqliteAuditTables;
  readonly #sessions: SqliteSessionTables;
  readonly #replicaState: SqliteReplicaStateTables;

  constructor(opts: SqliteStoreOptions) {
    const memory = opts.path === ":memory:";
    const durability = opts.durability ?? "commit";
    if (!memory && !opts.readOnly) {
      mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
      // Create the file ourselves so it is 0600 from its first byte: it holds token hashes and the audit log.
      closeSync(openSync(opts.path, "a", 0o600));
    }
    this.#db = new DatabaseSync(opts.path, {
      readOnly: opts.readOnly ?? false,
      enableForeignKeyConstraints: true,
    });
    this.#now = opts.now ?? Date.now;
    this.#lastUsedResolutionMs = opts.lastUsedResolutionMs ?? 60_000;
    try {
      // node:sqlite is synchronous: a lock held by another process (a backup, a sqlite3 shell) blocks the event loop
      // for up to this long per statement. One second bounds that freeze; past it the write fails and the request is
      // refused with 503 (fail closed) instead of every client of the gateway waiting.
      this.#db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      if (opts.readOnly) {
        const row = this.#db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
        if (row?.user_version !== SCHEMA_VERSION) throw new Error(`${opts.path} is not an Airlock database`);
      } else {
        if (!memory) this.#db.exec("PRAGMA journal_mode = WAL");
        // FULL for the store's own writes (identities, reviews: rare). The audit chain's batches commit at NORMAL — to
        // the WAL, without an fsync — and "fsync" syncs them off the event loop (audit-writer.ts). Measured: a
        // connection left at NORMAL made every audit commit ~0.4 ms slower than switching per batch (store-level
        // loop, begin 0.51 vs 0.11 ms p50), so the switch is per batch in both modes.
        this.#db.exec("PRAGMA synchronous = FULL");
        migrate(this.#db);
      }
    } catch (err) {
      this.#db.close();
      throw err;
    }
    this.#reviews = new SqliteReviewTables(this.#db, this.#now);
    this.#delegations = new SqliteDelegationTables(this.#db, this.#now);
    this.#identities = new SqliteIdentityTables(this.#db, this.#now, this.#lastUsedResolutionMs);
    this.#audit = new SqliteAuditTables(this.#db, this.#now, !opts.readOnly, {
      durability,
      ...(memory ? {} : { walPath: `${opts.path}-wal` }),
      // The file removed under a running gateway: fail closed instead of writing records that vanish at restart.
      ...(memory || opts.readOnly ? {} : { beforeBatch: databaseFileGuard(opts.path) }),
    });
    this.#sessions = new SqliteSessionTables(this.#db);
    this.#replicaState = new SqliteReplicaStateTables(this.#db);
  }

  // Sessions and recordings live in sessions.ts; the store delegates.
  sessionSave(session: SessionRecord): Promise<void> {
    return this.#sessions.sessionSave(session);
  }
  sessionGet(id: string): Promise<SessionRecord | undefined> {
    return this.#sessions.sessionGet(id);
  }
  sessionList(query: SessionQuery): Promise<SessionRecord[]> {
    return this.#sessions.sessionList(query);
  }
  sessionFindRecent(key: string, activeSince: string): Promise<SessionRecord | undefined> {
    return this.#sessions.sessionFindRecent(key, activeSince);
  }
  sessionEvents(sessionId: string, limit: number): Promise<AuditEvent[]> {
    return this.#sessions.sessionEvents(sessionId, limit);
  }
  recordingSave(recording: RecordingRecord): Promise<void> {
    return this.#sessions.recordingSave(recording);
  }
  recordingGet(id: string): Promise<RecordingRecord | undefined> {
    return this.#sessions.recordingGet(id);
  }
  recordingList(sessionId: string): Promise<RecordingRecord[]> {
    return this.#sessions.recordingList(sessionId);
  }

  // Reviews, their events and grants live in reviews.ts; the store delegates.
  reviewCreate(review: Review): Promise<void> {
    return this.#reviews.reviewCreate(review);
  }
  reviewGet(id: string): Promise<Review | undefined> {
    return this.#reviews.reviewGet(id);
  }
  reviewList(query: ReviewQuery): Promise<Review[]> {
    return this.#reviews.reviewList(query);
  }
  reviewFind(fingerprint: string, states: ReviewState[]): Promise<Review[]> {
    return this.#reviews.reviewFind(fingerprint, states);
  }
  reviewSave(review: Review): Promise<boolean> {
    return this.#reviews.reviewSave(review);
  }
  reviewEventAppend(event: ReviewEvent): Promise<void> {
    return this.#reviews.reviewEventAppend(event);
  }
  reviewEventList(reviewId: string): Promise<ReviewEvent[]> {
    return this.#reviews.reviewEventList(reviewId);
  }
  grantCreate(grant: Grant): Promise<void> {
    return this.#reviews.grantCreate(grant);
  }
  grantGet(id: string): Promise<Grant | undefined> {
    return this.#reviews.grantGet(id);
  }
  grantList(query: { identityId?: string; activeAt?: string }): Promise<Grant[]> {
    return this.#reviews.grantList(query);
  }
  grantRevoke(id: string, by: string, reason?: string): Promise<Grant | undefined> {
    return this.#reviews.grantRevoke(id, by, reason);
  }
  // State replicas share: console sessions and counters (replica-state.ts).
  consoleSessionCreate(
    session: ConsoleSessionRow,
    keep: { seenSinceMs: number; createdSinceMs: number; max: number },
  ): Promise<void> {
    return this.#replicaState.consoleSessionCreate(session, keep);
  }
  consoleSessionGet(digest: string): Promise<ConsoleSessionRow | undefined> {
    return this.#replicaState.consoleSessionGet(digest);
  }
  consoleSessionTouch(digest: string, lastSeenMs: number): Promise<void> {
    return this.#replicaState.consoleSessionTouch(digest, lastSeenMs);
  }
  consoleSessionDelete(digest: string): Promise<void> {
    return this.#replicaState.consoleSessionDelete(digest);
  }
  consoleSessionDeleteCredential(credentialId: string): Promise<void> {
    return this.#replicaState.consoleSessionDeleteCredential(credentialId);
  }
  counterGet(key: string): Promise<{ version: number; state: string } | undefined> {
    return this.#replicaState.counterGet(key);
  }
  counterSwap(key: string, version: number, state: string, expiresMs: number): Promise<boolean> {
    return this.#replicaState.counterSwap(key, version, state, expiresMs);
  }
  counterPurge(nowMs: number): Promise<number> {
    return this.#replicaState.counterPurge(nowMs);
  }

  // Delegations (issue 15).
  delegationCreate(delegation: Delegation): Promise<void> {
    return this.#delegations.delegationCreate(delegation);
  }
  delegationGet(id: string): Promise<Delegation | undefined> {
    return this.#delegations.delegationGet(id);
  }
  delegationList(query: { human?: string; agent?: string; activeAt?: string }): Promise<Delegation[]> {
    return this.#delegations.delegationList(query);
  }
  delegationRevoke(id: string, by: string): Promise<Delegation | undefined> {
    return this.#delegations.delegationRevoke(id, by);
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.#db.prepare(sql).get(...params) as Row | undefined;
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#db.prepare(sql).all(...params) as Row[];
  }

  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#db.prepare(sql).run(...params).changes);
  }

  // The audit chain (begin, completion, notes, checkpoints, retention, search) lives in audit.ts; the store delegates.
  auditBegin(event: AuditEvent): Promise<void> {
    return this.#audit.auditBegin(event);
  }
  auditComplete(id: string, completion: AuditCompletion): Promise<void> {
    return this.#audit.auditComplete(id, completion);
  }
  auditNote(note: AuditNote): Promise<AuditRecord> {
    return this.#audit.auditNote(note);
  }
  auditHead(): Promise<{ seq: number; hash: string }> {
    return this.#audit.auditHead();
  }
  auditRecords(query: { afterSeq: number; toSeq?: number; limit: number }): Promise<AuditRecord[]> {
    return this.#audit.auditRecords(query);
  }
  auditSeqAt(time: string): Promise<number | undefined> {
    return this.#audit.auditSeqAt(time);
  }
  auditLastSeqBefore(time: string): Promise<number | undefined> {
    return this.#audit.auditLastSeqBefore(time);
  }
  auditEventsByIds(ids: string[]): Promise<AuditEvent[]> {
    return this.#audit.auditEventsByIds(ids);
  }
  auditUnchained(limit: number): Promise<string[]> {
    return this.#audit.auditUnchained(limit);
  }
  auditCheckpointAppend(checkpoint: AuditCheckpoint): Promise<void> {
    return this.#audit.auditCheckpointAppend(checkpoint);
  }
  auditCheckpointList(): Promise<AuditCheckpoint[]> {
    return this.#audit.auditCheckpointList();
  }
  auditPrune(throughSeq: number, seal: AuditCheckpoint): Promise<{ records: number; events: number }> {
    return this.#audit.auditPrune(throughSeq, seal);
  }
  auditSearch(query: AuditQuery): Promise<AuditSearchResult> {
    return this.#audit.auditSearch(query);
  }
  auditCursorGet(name: string): Promise<number> {
    return this.#audit.auditCursorGet(name);
  }
  auditCursorSet(name: string, seq: number): Promise<void> {
    return this.#audit.auditCursorSet(name, seq);
  }
  auditWatch(listener: (head: { seq: number; hash: string }) => void): () => void {
    return this.#audit.auditWatch(listener);
  }

  async auditList(query: AuditQuery): Promise<AuditEvent[]> {
    // One query path for every filter (audit.ts); auditList is the first page of auditSearch.
    return (await this.#audit.auditSearch(query)).items;
  }

  // Identities and credentials live in identities.ts; the store delegates.
  identityCreate(input: Parameters<Store["identityCreate"]>[0]): ReturnType<Store["identityCreate"]> {
    return this.#identities.identityCreate(input);
  }
  identityGet(name: string): Promise<Identity | undefined> {
    return this.#identities.identityGet(name);
  }
  identityList(): Promise<Identity[]> {
    return this.#identities.identityList();
  }
  identityRevoke(name: string): Promise<Identity | undefined> {
    return this.#identities.identityRevoke(name);
  }
  identityUpdate(name: string, update: IdentityUpdate): Promise<Identity | undefined> {
    return this.#identities.identityUpdate(name, update);
  }
  identitySetDisabled(name: string, disabled: boolean): Promise<Identity | undefined> {
    return this.#identities.identitySetDisabled(name, disabled);
  }
  credentialCreate(identityName: string, opts?: CredentialOptions): ReturnType<Store["credentialCreate"]> {
    return this.#identities.credentialCreate(identityName, opts);
  }
  credentialAddCertificate(
    identityName: string,
    cert: Parameters<Store["credentialAddCertificate"]>[1],
  ): Promise<Credential | undefined> {
    return this.#identities.credentialAddCertificate(identityName, cert);
  }
  credentialGet(credentialId: string): Promise<Credential | undefined> {
    return this.#identities.credentialGet(credentialId);
  }
  credentialList(identityName: string): Promise<Credential[] | undefined> {
    return this.#identities.credentialList(identityName);
  }
  credentialExpireAt(credentialId: string, expiresAt: string): Promise<Credential | undefined> {
    return this.#identities.credentialExpireAt(credentialId, expiresAt);
  }
  credentialRevoke(credentialId: string): Promise<Credential | undefined> {
    return this.#identities.credentialRevoke(credentialId);
  }
  authenticateToken(tokenHash: string): ReturnType<Store["authenticateToken"]> {
    return this.#identities.authenticateToken(tokenHash);
  }
  authenticateCertificate(fingerprint: string): ReturnType<Store["authenticateCertificate"]> {
    return this.#identities.authenticateCertificate(fingerprint);
  }
  authenticateCredentialId(credentialId: string): ReturnType<Store["authenticateCredentialId"]> {
    return this.#identities.authenticateCredentialId(credentialId);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#audit.drain();
    await this.#audit.settled();
    if (this.#db.isOpen) this.#db.close();
  }
}
