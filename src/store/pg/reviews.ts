// The PostgreSQL review tables: reviews stored whole as JSON beside the columns lookups need, their event trail and
// grants — the SQLite engine's semantics (src/store/reviews.ts), pinned for both by the store contract.
//
// Concurrency across replicas: a review is saved only if the stored version is the one the caller read (one
// UPDATE … WHERE version = $n, atomic in PostgreSQL), so two reviewers on two replicas approving at once, or an
// approval racing an expiry, cannot both win. A row that does not parse throws: a corrupt review is never approved.
import type {
  Grant,
  Review,
  ReviewEvent,
  ReviewQuery,
  ReviewState,
  ReviewStore,
} from "../../review/types.ts";
import { DEFAULT_REVIEW_LIMIT, grantFromRow, MAX_REVIEW_LIMIT, reviewFromRow, str } from "../review-rows.ts";
import type { Db, Param } from "./db.ts";

export class PgReviewTables implements ReviewStore {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async reviewCreate(review: Review): Promise<void> {
    await this.#db.sql(
      "INSERT INTO reviews (id, fingerprint, state, created_at, version, data_json) VALUES ($1, $2, $3, $4, $5, $6)",
      [review.id, review.fingerprint, review.state, review.createdAt, review.version, JSON.stringify(review)],
    );
  }

  async reviewGet(id: string): Promise<Review | undefined> {
    const [row] = await this.#db.sql("SELECT * FROM reviews WHERE id = $1", [id]);
    return row ? reviewFromRow(row) : undefined;
  }

  async reviewList(query: ReviewQuery): Promise<Review[]> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_REVIEW_LIMIT), 1), MAX_REVIEW_LIMIT);
    const rows = query.state
      ? await this.#db.sql("SELECT * FROM reviews WHERE state = $1 ORDER BY seq DESC LIMIT $2", [
          query.state,
          limit,
        ])
      : await this.#db.sql("SELECT * FROM reviews ORDER BY seq DESC LIMIT $1", [limit]);
    return rows.map(reviewFromRow);
  }

  async reviewFind(fingerprint: string, states: ReviewState[]): Promise<Review[]> {
    if (states.length === 0) return [];
    const rows = await this.#db.sql(
      "SELECT * FROM reviews WHERE fingerprint = $1 AND state = ANY($2::text[]) ORDER BY seq DESC",
      [fingerprint, states],
    );
    return rows.map(reviewFromRow);
  }

  async reviewSave(review: Review): Promise<boolean> {
    const changed = await this.#db.sql.count(
      "UPDATE reviews SET state = $1, version = $2, data_json = $3 WHERE id = $4 AND version = $5",
      [review.state, review.version, JSON.stringify(review), review.id, review.version - 1],
    );
    return changed === 1;
  }

  async reviewEventAppend(event: ReviewEvent): Promise<void> {
    await this.#db.sql(
      "INSERT INTO review_events (review_id, time, type, actor, detail) VALUES ($1, $2, $3, $4, $5)",
      [event.reviewId, event.time, event.type, event.actor, event.detail],
    );
  }

  async reviewEventList(reviewId: string): Promise<ReviewEvent[]> {
    const rows = await this.#db.sql("SELECT * FROM review_events WHERE review_id = $1 ORDER BY seq", [
      reviewId,
    ]);
    return rows.map((row) => ({
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
    await this.#db.sql(
      `INSERT INTO grants (id, review_id, identity_id, identity_name, cluster, verb, api_group, resource, namespace,
         created_by, created_at, expires_at, expires_ms, revoked_at, revoked_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
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
      ],
    );
  }

  async grantGet(id: string): Promise<Grant | undefined> {
    const [row] = await this.#db.sql("SELECT * FROM grants WHERE id = $1", [id]);
    return row ? grantFromRow(row) : undefined;
  }

  async grantList(query: { identityId?: string; activeAt?: string }): Promise<Grant[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (query.identityId !== undefined) {
      params.push(query.identityId);
      where.push(`identity_id = $${params.length}`);
    }
    if (query.activeAt !== undefined) {
      const at = Date.parse(query.activeAt);
      if (Number.isNaN(at)) throw new Error(`activeAt "${query.activeAt}" is not a date`);
      params.push(at);
      where.push(`revoked_at IS NULL AND expires_ms > $${params.length}`);
    }
    const rows = await this.#db.sql(
      `SELECT * FROM grants${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC`,
      params,
    );
    return rows.map(grantFromRow);
  }

  async grantRevoke(id: string, by: string, reason?: string): Promise<Grant | undefined> {
    // The first revocation wins whole: time, revoker and reason stay together.
    await this.#db.sql(
      "UPDATE grants SET revoked_at = $1, revoked_by = $2, ended_reason = $3 WHERE id = $4 AND revoked_at IS NULL",
      [new Date(this.#now()).toISOString(), by, reason ?? null, id],
    );
    return this.grantGet(id);
  }
}
