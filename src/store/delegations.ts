// The delegation table (issue 15), written once for both engines: a human's consent that an identity may act on
// their behalf.
//
// Stance: a delegation is only ever narrowed after it is made: revocation keeps the first revoker and time, and
// "active" is decided by the caller's clock against the stored expiry, never by a flag that could be left stale.
import type { Delegation, DelegationTable } from "../identity/types.ts";
import { delegationFromRow } from "./review-rows.ts";
import type { Db, Param } from "./sql.ts";

const COLUMNS =
  "id, human, human_id, agent, agent_id, created_by, created_at, expires_at, expires_ms, revoked_at, revoked_by";

export class DelegationTables implements DelegationTable {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async create(d: Delegation): Promise<void> {
    const expiresMs = Date.parse(d.expiresAt);
    if (Number.isNaN(expiresMs)) throw new Error(`delegation ${d.id}: expiresAt is not a date`);
    await this.#db.run(`INSERT INTO delegations (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      d.id,
      d.human,
      d.humanId,
      d.agent,
      d.agentId,
      d.createdBy,
      d.createdAt,
      d.expiresAt,
      expiresMs,
      d.revokedAt,
      d.revokedBy,
    ]);
  }

  async get(id: string): Promise<Delegation | undefined> {
    const row = await this.#db.get("SELECT * FROM delegations WHERE id = ?", [id]);
    return row ? delegationFromRow(row) : undefined;
  }

  /** Newest first; with `activeAt`, only those neither revoked nor expired at that time. */
  async list(query: { human?: string; agent?: string; activeAt?: string }): Promise<Delegation[]> {
    const clauses: string[] = [];
    const params: Param[] = [];
    if (query.human !== undefined) {
      clauses.push("human = ?");
      params.push(query.human);
    }
    if (query.agent !== undefined) {
      clauses.push("agent = ?");
      params.push(query.agent);
    }
    if (query.activeAt !== undefined) {
      const at = Date.parse(query.activeAt);
      if (Number.isNaN(at)) throw new Error(`activeAt "${query.activeAt}" is not a date`);
      clauses.push("revoked_at IS NULL AND expires_ms > ?");
      params.push(at);
    }
    const where = clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "";
    return (await this.#db.all(`SELECT * FROM delegations${where} ORDER BY seq DESC`, params)).map(
      delegationFromRow,
    );
  }

  /** Revokes one (the first revocation is kept). Undefined when it is unknown. */
  async revoke(id: string, by: string): Promise<Delegation | undefined> {
    await this.#db.run(
      "UPDATE delegations SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
      [new Date(this.#now()).toISOString(), by, id],
    );
    return this.get(id);
  }
}
