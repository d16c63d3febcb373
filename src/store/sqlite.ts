// The embedded store: one SQLite file in the data directory (node:sqlite, WAL, synchronous=FULL).
//
// Fail closed: every write commits before its promise resolves, so a resolved `auditBegin` is on disk (write-ahead
// audit, DESIGN.md invariant 3), and a failed write (read-only file, closed handle, full disk) rejects. The one write
// that is allowed to fail quietly is the "last used" timestamp: it is advisory, and an unwritable store must still
// refuse requests with 503 at the audit step rather than 401 at authentication.
// Tokens are never stored, only SHA-256 hashes (invariant 7); a hash is found by index and then re-compared in
// constant time.
import { randomUUID } from "node:crypto";
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
  Credential,
  Grant,
  Identity,
  Review,
  ReviewEvent,
  ReviewQuery,
  ReviewState,
  Store,
} from "../gateway/contracts.ts";
import { StatusError } from "../shared/status.ts";
import { generateToken, hashToken, isTokenHash, tokenHashesEqual } from "../shared/tokens.ts";
import { SqliteAuditTables } from "./audit.ts";
import { SqliteReviewTables } from "./reviews.ts";
import { AUDIT_COLUMNS, auditFromRow, credentialFromRow, identityFromRow } from "./rows.ts";
import { migrate, SCHEMA_VERSION } from "./schema.ts";

export interface SqliteStoreOptions {
  /** The database file, or ":memory:" for a throw-away store. */
  path: string;
  /** Open an existing database without write access: reads work, every write rejects. */
  readOnly?: boolean;
  /** The clock, in epoch milliseconds (tests move it). */
  now?: () => number;
  /** "Last used" is written at most this often per credential, so authentication does not cost a sync per request. */
  lastUsedResolutionMs?: number;
}

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

type Row = Record<string, unknown>;

export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #lastUsedResolutionMs: number;
  readonly #reviews: SqliteReviewTables;
  readonly #audit: SqliteAuditTables;

  constructor(opts: SqliteStoreOptions) {
    const memory = opts.path === ":memory:";
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
      this.#db.exec("PRAGMA busy_timeout = 5000");
      if (opts.readOnly) {
        const row = this.#db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
        if (row?.user_version !== SCHEMA_VERSION) throw new Error(`${opts.path} is not an Airlock database`);
      } else {
        if (!memory) this.#db.exec("PRAGMA journal_mode = WAL");
        // FULL: in WAL mode, NORMAL may lose the last commits on power loss; the audit log must not.
        this.#db.exec("PRAGMA synchronous = FULL");
        migrate(this.#db);
      }
    } catch (err) {
      this.#db.close();
      throw err;
    }
    this.#reviews = new SqliteReviewTables(this.#db, this.#now);
    this.#audit = new SqliteAuditTables(this.#db, this.#now, !opts.readOnly);
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
  grantRevoke(id: string, by: string): Promise<Grant | undefined> {
    return this.#reviews.grantRevoke(id, by);
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw err;
    }
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

  #identityByName(name: string): Identity | undefined {
    const row = this.#get("SELECT * FROM identities WHERE name = ?", name);
    return row ? identityFromRow(row) : undefined;
  }

  #issueCredential(identityId: string): { credential: Credential; token: string } {
    const token = generateToken();
    const credential: Credential = {
      id: randomUUID(),
      identityId,
      tokenHash: hashToken(token),
      createdAt: this.#iso(),
      revokedAt: null,
    };
    this.#run(
      "INSERT INTO credentials (id, identity_id, token_hash, created_at) VALUES (?, ?, ?, ?)",
      credential.id,
      identityId,
      credential.tokenHash,
      credential.createdAt,
    );
    return { credential, token };
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
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.identityName !== undefined) {
      where.push("identity_name = ?");
      params.push(query.identityName);
    }
    if (query.since !== undefined) {
      const since = Date.parse(query.since);
      if (Number.isNaN(since)) throw StatusError.of("BadRequest", `since "${query.since}" is not a date`);
      where.push("time_ms >= ?");
      params.push(since);
    }
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_AUDIT_LIMIT), 1), MAX_AUDIT_LIMIT);
    const sql =
      "SELECT * FROM audit_events" +
      (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
      " ORDER BY time_ms DESC, seq DESC LIMIT ?";
    return this.#all(sql, ...params, limit).map(auditFromRow);
  }

  async identityCreate(input: {
    name: string;
    kind: "agent" | "human";
    groups: string[];
    labels?: Record<string, string>;
  }): Promise<{ identity: Identity; token: string }> {
    return this.#transaction(() => {
      if (this.#identityByName(input.name)) {
        throw StatusError.of("AlreadyExists", `identity "${input.name}" already exists`, {
          name: input.name,
          kind: "identities",
        });
      }
      const identity: Identity = {
        id: randomUUID(),
        name: input.name,
        kind: input.kind,
        groups: [...input.groups],
        labels: { ...(input.labels ?? {}) },
        createdAt: this.#iso(),
        revokedAt: null,
        lastUsedAt: null,
      };
      this.#run(
        "INSERT INTO identities (id, name, kind, groups_json, labels_json, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        identity.id,
        identity.name,
        identity.kind,
        JSON.stringify(identity.groups),
        JSON.stringify(identity.labels),
        identity.createdAt,
      );
      const { token } = this.#issueCredential(identity.id);
      return { identity, token };
    });
  }

  async identityGet(name: string): Promise<Identity | undefined> {
    return this.#identityByName(name);
  }

  async identityList(): Promise<Identity[]> {
    return this.#all("SELECT * FROM identities ORDER BY name").map(identityFromRow);
  }

  async identityRevoke(name: string): Promise<Identity | undefined> {
    return this.#transaction(() => {
      const identity = this.#identityByName(name);
      if (!identity) return undefined;
      const now = this.#iso();
      // coalesce keeps the first revocation time when an identity is revoked twice.
      this.#run("UPDATE identities SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", now, identity.id);
      this.#run(
        "UPDATE credentials SET revoked_at = coalesce(revoked_at, ?) WHERE identity_id = ?",
        now,
        identity.id,
      );
      return this.#identityByName(name);
    });
  }

  async credentialCreate(
    identityName: string,
  ): Promise<{ credential: Credential; token: string } | undefined> {
    return this.#transaction(() => {
      const identity = this.#identityByName(identityName);
      if (!identity || identity.revokedAt !== null) return undefined;
      return this.#issueCredential(identity.id);
    });
  }

  async credentialRevoke(credentialId: string): Promise<Credential | undefined> {
    return this.#transaction(() => {
      this.#run(
        "UPDATE credentials SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
        this.#iso(),
        credentialId,
      );
      const row = this.#get("SELECT * FROM credentials WHERE id = ?", credentialId);
      return row ? credentialFromRow(row) : undefined;
    });
  }

  async authenticateToken(
    tokenHash: string,
  ): Promise<{ identity: Identity; credential: Credential } | undefined> {
    if (!isTokenHash(tokenHash)) return undefined;
    const credentialRow = this.#get("SELECT * FROM credentials WHERE token_hash = ?", tokenHash);
    // The index lookup found the row; the constant-time re-compare keeps the final decision free of early exits.
    if (!credentialRow || !tokenHashesEqual(String(credentialRow.token_hash), tokenHash)) return undefined;
    const credential = credentialFromRow(credentialRow);
    const identityRow = this.#get("SELECT * FROM identities WHERE id = ?", credential.identityId);
    if (!identityRow) return undefined;
    const identity = identityFromRow(identityRow);
    if (credential.revokedAt !== null || identity.revokedAt !== null) return undefined;
    this.#markUsed(identity, credentialRow);
    return { identity, credential };
  }

  #markUsed(identity: Identity, credentialRow: Row): void {
    const now = this.#now();
    const last =
      typeof credentialRow.last_used_at === "string" ? Date.parse(credentialRow.last_used_at) : Number.NaN;
    if (!Number.isNaN(last) && now - last < this.#lastUsedResolutionMs) return;
    const iso = new Date(now).toISOString();
    try {
      this.#transaction(() => {
        this.#run("UPDATE credentials SET last_used_at = ? WHERE id = ?", iso, String(credentialRow.id));
        this.#run("UPDATE identities SET last_used_at = ? WHERE id = ?", iso, identity.id);
      });
      identity.lastUsedAt = iso;
    } catch {
      // Advisory only (see the header): an unwritable store is caught at the audit step, which fails closed.
    }
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#audit.drain();
    if (this.#db.isOpen) this.#db.close();
  }
}
