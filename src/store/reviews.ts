// The review tables of the SQLite engine: reviews (stored whole as JSON, with the columns lookups need), their event
// trail and grants. Engine-neutral SQL, so a PostgreSQL engine can follow it closely.
//
// Concurrency: a review is saved only if the stored version is the one the caller read (compare-and-set), so two
// reviewers approving at once, or an approval racing an expiry, cannot both win. A row that does not parse throws:
// a corrupt review must never be read as approved.
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { Grant, Review, ReviewEvent, ReviewQuery, ReviewState, ReviewStore } from "../review/types.ts";
import { DEFAULT_REVIEW_LIMIT, grantFromRow, MAX_REVIEW_LIMIT, reviewFromRow, str } from "./review-rows.ts";

type Row = Record<string, unknown>;

export class SqliteReviewTables implements ReviewStore {
  readonly #db: DatabaseSync;
  readonly #now: () => number;

  constructor(db: DatabaseSync, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#db.prepare(sql).all(...params) as Row[];
  }

  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#db.prepare(sql).run(...params).changes);
  }

  async reviewCreate(review: Review): Promise<void> {
    this.#run(
      "INSERT INTO reviews (id, fingerprint, state, created_at, version, data_json) VALUES (?, ?, ?, ?, ?, ?)",
      review.id,
      review.fingerprint,
      review.state,
      review.createdAt,
      review.version,
      JSON.stringify(review),
    );
  }

  async reviewGet(id: string): Promise<Review | undefined> {
    const row = this.#all("SELECT * FROM reviews WHERE id = ?", id)[0];
    return row ? reviewFromRow(row) : undefined;
  }

  async reviewList(query: ReviewQuery): Promise<Review[]> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_REVIEW_LIMIT), 1), MAX_REVIEW_LIMIT);
    const rows = query.state
      ? this.#all("SELECT * FROM reviews WHERE state = ? ORDER BY seq DESC LIMIT ?", query.state, limit)
      : this.#all("SELECT * FROM reviews ORDER BY seq DESC LIMIT ?", limit);
    return rows.map(reviewFromRow);
  }

  async reviewFind(fingerprint: string, states: ReviewState[]): Promise<Review[]> {
    if (states.length === 0) return [];
    const marks = states.map(() => "?").join(", ");
    return this.#all(
      `SELECT * FROM reviews WHERE fingerprint = ? AND state IN (${marks}) ORDER BY seq DESC`,
      fingerprint,
      ...states,
    ).map(reviewFromRow);
  }

  async reviewSave(review: Review): Promise<boolean> {
    const changes = this.#run(
      "UPDATE reviews SET state = ?, version = ?, data_json = ? WHERE id = ? AND version = ?",
      review.state,
      review.version,
      JSON.stringify(review),
      review.id,
      review.version - 1,
    );
    return changes === 1;
  }

  async reviewEventAppend(event: ReviewEvent): Promise<void> {
    this.#run(
      "INSERT INTO review_events (review_id, time, type, actor, detail) VALUES (?, ?, ?, ?, ?)",
      event.reviewId,
      event.time,
      event.type,
      event.actor,
      event.detail,
    );
  }

  async reviewEventList(reviewId: string): Promise<ReviewEvent[]> {
    return this.#all("SELECT * FROM review_events WHERE review_id = ? ORDER BY seq", reviewId).map((row) => ({
      seq: Number(row.seq),
      reviewId: str(row, "review_id"),
      time: str(row, "time"),
      type: str(row, "type") as ReviewEvent["type"],
      actor: str(row, "actor"),
      detail: str(row, "detail"),
    }));
  }

  async grantCreate(grant: Grant): Promise<void> {
    const expiresMs = Date.parse(grant.expiresAt);
    if (Number.isNaN(expiresMs)) throw new Error(`grant ${grant.id}: expiresAt is not a date`);
    this.#run(
      `INSERT INTO grants (id, review_id, identity_id, identity_name, cluster, verb, api_group, resource, namespace,
         created_by, created_at, expires_at, expires_ms, revoked_at, revoked_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      grant.id,
      grant.reviewId,
      grant.identityId,
      grant.identityName,
      grant.cluster,
      grant.verb,
      grant.apiGroup,
      grant.resource,
      grant.namespace,
      grant.createdBy,
      grant.createdAt,
      grant.expiresAt,
      expiresMs,
      grant.revokedAt,
      grant.revokedBy,
    );
  }

  async grantGet(id: string): Promise<Grant | undefined> {
    const row = this.#all("SELECT * FROM grants WHERE id = ?", id)[0];
    return row ? grantFromRow(row) : undefined;
  }

  async grantList(query: { identityId?: string; activeAt?: string }): Promise<Grant[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.identityId !== undefined) {
      where.push("identity_id = ?");
      params.push(query.identityId);
    }
    if (query.activeAt !== undefined) {
      const at = Date.parse(query.activeAt);
      if (Number.isNaN(at)) throw new Error(`activeAt "${query.activeAt}" is not a date`);
      where.push("revoked_at IS NULL AND expires_ms > ?");
      params.push(at);
    }
    const sql = `SELECT * FROM grants${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC`;
    return this.#all(sql, ...params).map(grantFromRow);
  }

  async grantRevoke(id: string, by: string, reason?: string): Promise<Grant | undefined> {
    const now = new Date(this.#now()).toISOString();
    // The first revocation wins whole: time, revoker and reason stay together.
    this.#run(
      "UPDATE grants SET revoked_at = ?, revoked_by = ?, ended_reason = ? WHERE id = ? AND revoked_at IS NULL",
      now,
      by,
      reason ?? null,
      id,
    );
    return this.grantGet(id);
  }
}
