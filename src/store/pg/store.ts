// The PostgreSQL store: the engine several gateway replicas share (identities, reviews, audit, sessions and
// recordings' metadata). The tables live in pg/*.ts; this class opens the pool, migrates, and delegates.
//
// Fail closed as the SQLite engine: every write resolves only after its COMMIT, a failed write rejects, a closed store
// rejects everything. The connection URL (it carries a password) never appears in a log line or error we raise.
import type {
  AuditCheckpoint,
  AuditCompletion,
  AuditEvent,
  AuditNote,
  AuditQuery,
  AuditRecord,
  AuditSearchResult,
} from "../../audit/types.ts";
import type {
  Credential,
  CredentialOptions,
  Delegation,
  Identity,
  IdentityUpdate,
} from "../../identity/types.ts";
import type { RecordingRecord, SessionQuery, SessionRecord } from "../../recording/types.ts";
import type { Grant, Review, ReviewEvent, ReviewQuery, ReviewState } from "../../review/types.ts";
import type { ConsoleSessionRow, Store } from "../types.ts";
import { PgAuditTables } from "./audit.ts";
import { Db, type PgOptions } from "./db.ts";
import { PgDelegationTables } from "./delegations.ts";
import { PgIdentityTables } from "./identities.ts";
import { PgReplicaStateTables } from "./replica-state.ts";
import { PgReviewTables } from "./reviews.ts";
import { migratePg } from "./schema.ts";
import { PgSessionTables } from "./sessions.ts";

export interface PostgresStoreOptions extends PgOptions {
  /** The clock, in epoch milliseconds (tests move it). */
  now?: () => number;
  /** "Last used" is written at most this often per credential. */
  lastUsedResolutionMs?: number;
}

/** Opens the pool, applies migrations (refusing a newer schema) and returns the store. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  const db = new Db(opts);
  try {
    await migratePg(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return new PostgresStore(db, opts);
}

export class PostgresStore implements Store {
  readonly #db: Db;
  readonly #identities: PgIdentityTables;
  readonly #reviews: PgReviewTables;
  readonly #delegations: PgDelegationTables;
  readonly #audit: PgAuditTables;
  readonly #sessions: PgSessionTables;
  readonly #replicaState: PgReplicaStateTables;

  constructor(db: Db, opts: { now?: () => number; lastUsedResolutionMs?: number } = {}) {
    const now = opts.now ?? Date.now;
    this.#db = db;
    this.#identities = new PgIdentityTables(db, now, opts.lastUsedResolutionMs ?? 60_000);
    this.#reviews = new PgReviewTables(db, now);
    this.#delegations = new PgDelegationTables(db, now);
    this.#audit = new PgAuditTables(db, now);
    this.#sessions = new PgSessionTables(db);
    this.#replicaState = new PgReplicaStateTables(db);
  }

  /** The schema the tables live in (the event bus names its channel after it). */
  get schema(): string {
    return this.#db.schema;
  }

  // Audit.
  auditBegin(event: AuditEvent): Promise<void> {
    return this.#audit.auditBegin(event);
  }
  auditComplete(id: string, completion: AuditCompletion): Promise<void> {
    return this.#audit.auditComplete(id, completion);
  }
  auditList(query: AuditQuery): Promise<AuditEvent[]> {
    return this.#audit.auditList(query);
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

  // Identities and credentials.
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

  // Reviews, their events and grants.
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

  // Sessions and recordings.
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

  async close(): Promise<void> {
    if (this.#db.closed) return;
    await this.#audit.drain().catch(() => {});
    await this.#db.close();
  }
}
