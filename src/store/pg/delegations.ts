// The PostgreSQL delegation table: the SQLite engine's semantics (src/store/delegations.ts), pinned for both by the
// store contract.
import type { Delegation, DelegationStore } from "../../identity/types.ts";
import { DELEGATION_COLUMNS, delegationValues, delegationWhere } from "../delegations.ts";
import { delegationFromRow } from "../review-rows.ts";
import type { Db } from "./db.ts";

export class PgDelegationTables implements DelegationStore {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async delegationCreate(delegation: Delegation): Promise<void> {
    await this.#db.sql(
      `INSERT INTO delegations (${DELEGATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      delegationValues(delegation),
    );
  }

  async delegationGet(id: string): Promise<Delegation | undefined> {
    const [row] = await this.#db.sql("SELECT * FROM delegations WHERE id = $1", [id]);
    return row ? delegationFromRow(row) : undefined;
  }

  async delegationList(query: { human?: string; agent?: string; activeAt?: string }): Promise<Delegation[]> {
    const { where, params } = delegationWhere(query, (n) => `$${n}`);
    const rows = await this.#db.sql(`SELECT * FROM delegations${where} ORDER BY seq DESC`, params);
    return rows.map(delegationFromRow);
  }

  async delegationRevoke(id: string, by: string): Promise<Delegation | undefined> {
    await this.#db.sql(
      "UPDATE delegations SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
      [new Date(this.#now()).toISOString(), by, id],
    );
    return this.delegationGet(id);
  }
}
