// The review tables, written once for both engines: reviews (stored whole as JSON beside the columns lookups need),
// their event trail, and grants.
//
// Concurrency: a review is saved only if the stored version is the one the caller read (one UPDATE … WHERE version
// = ?, atomic on both engines), so two reviewers approving at once — on one replica or two — or an approval racing an
// expiry, cannot both win. A row that does not parse throws: a corrupt review must never be read as approved.
import type {
  Grant,
  GrantTable,
  Review,
  ReviewEvent,
  ReviewQuery,
  ReviewState,
  ReviewTable,
} from "../review/types.ts";
import { DEFAULT_REVIEW_LIMIT, grantFromRow, MAX_REVIEW_LIMIT, reviewFromRow, str } from "./review-rows.ts";
import { type Db, marks, type Param } from "./sql.ts";

export class ReviewTables implements ReviewTable {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async create(review: Review): Promise<void> {
    await this.#db.run(
      "INSERT INTO reviews (id, fingerprint, state, created_at, version, data_json) VALUES (?, ?, ?, ?, ?, ?)",
      [review.id, review.fingerprint, review.state, review.createdAt, review.version, JSON.stringify(review)],
    );
  }

  async get(id: string): Promise<Review | undefined> {
    const row = await this.#db.get("SELECT * FROM reviews WHERE id = ?", [id]);
    return row ? reviewFromRow(row) : undefined;
  }

  /** Newest first. */
  async list(query: ReviewQuery): Promise<Review[]> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_REVIEW_LIMIT), 1), MAX_REVIEW_LIMIT);
    const rows = query.state
      ? await this.#db.all("SELECT * FROM reviews WHERE state = ? ORDER BY seq DESC LIMIT ?", [
          query.state,
          limit,
        ])
      : await this.#db.all("SELECT * FROM reviews ORDER BY seq DESC LIMIT ?", [limit]);
    return rows.map(reviewFromRow);
  }

  /** Reviews with this fingerprint in one of `states`, newest first. */
  async find(fingerprint: string, states: ReviewState[]): Promise<Review[]> {
    if (states.length === 0) return [];
    const rows = await this.#db.all(
      `SELECT * FROM reviews WHERE fingerprint = ? AND state IN (${marks(states.length)}) ORDER BY seq DESC`,
      [fingerprint, ...states],
    );
    return rows.map(reviewFromRow);
  }

  /** Saves `review` if the stored version is still `review.version - 1`; false when someone else saved first. */
  async save(review: Review): Promise<boolean> {
    const changed = await this.#db.run(
      "UPDATE reviews SET state = ?, version = ?, data_json = ? WHERE id = ? AND version = ?",
      [review.state, review.version, JSON.stringify(review), review.id, review.version - 1],
    );
    return changed === 1;
  }

  async appendEvent(event: ReviewEvent): Promise<void> {
    await this.#db.run(
      "INSERT INTO review_events (review_id, time, type, actor, detail) VALUES (?, ?, ?, ?, ?)",
      [event.reviewId, event.time, event.type, event.actor, event.detail],
    );
  }

  async events(reviewId: string): Promise<ReviewEvent[]> {
    const rows = await this.#db.all("SELECT * FROM review_events WHERE review_id = ? ORDER BY seq", [
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
}

export class GrantTables implements GrantTable {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async create(grant: Grant): Promise<void> {
    const expiresMs = Date.parse(grant.expiresAt);
    if (Number.isNaN(expiresMs)) throw new Error(`grant ${grant.id}: expiresAt is not a date`);
    await this.#db.run(
      `INSERT INTO grants (id, review_id, identity_id, identity_name, cluster, verb, api_group, resource, namespace,
         created_by, created_at, expires_at, expires_ms, revoked_at, revoked_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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

  async get(id: string): Promise<Grant | undefined> {
    const row = await this.#db.get("SELECT * FROM grants WHERE id = ?", [id]);
    return row ? grantFromRow(row) : undefined;
  }

  /** All grants, newest first; with `activeAt`, only those neither revoked nor expired at that time. */
  async list(query: { identityId?: string; activeAt?: string }): Promise<Grant[]> {
    const where: string[] = [];
    const params: Param[] = [];
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
    const rows = await this.#db.all(
      `SELECT * FROM grants${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC`,
      params,
    );
    return rows.map(grantFromRow);
  }

  /**
   * Revokes a grant; the first revocation wins whole (time, revoker and reason stay together). `reason` says why it
   * ended when that was not a reviewer's choice. Undefined when unknown.
   */
  async revoke(id: string, by: string, reason?: string): Promise<Grant | undefined> {
    await this.#db.run(
      "UPDATE grants SET revoked_at = ?, revoked_by = ?, ended_reason = ? WHERE id = ? AND revoked_at IS NULL",
      [new Date(this.#now()).toISOString(), by, reason ?? null, id],
    );
    return this.get(id);
  }
}
