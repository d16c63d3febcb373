// The delegation table of the SQLite engine (issue 15): a human's consent that an identity may act on their behalf.
// Engine-neutral SQL; the PostgreSQL engine (pg/delegations.ts) follows it, and the store contract pins both.
//
// Stance: a delegation is only ever narrowed after it is made: revocation keeps the first revoker and time, and
// "active" is decided by the caller's clock against the stored expiry, never by a flag that could be left stale.
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { Delegation, DelegationStore } from "../identity/types.ts";
import { delegationFromRow } from "./review-rows.ts";

type Row = Record<string, unknown>;

/** The WHERE clause of a delegation listing, with `?` or `$n` placeholders. */
export function delegationWhere(
  query: { human?: string; agent?: string; activeAt?: string },
  placeholder: (n: number) => string,
): { where: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  const add = (clause: (p: string) => string, value: string | number) => {
    params.push(value);
    clauses.push(clause(placeholder(params.length)));
  };
  if (query.human !== undefined) add((p) => `human = ${p}`, query.human);
  if (query.agent !== undefined) add((p) => `agent = ${p}`, query.agent);
  if (query.activeAt !== undefined) {
    const at = Date.parse(query.activeAt);
    if (Number.isNaN(at)) throw new Error(`activeAt "${query.activeAt}" is not a date`);
    add((p) => `revoked_at IS NULL AND expires_ms > ${p}`, at);
  }
  return { where: clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "", params };
}

export function delegationValues(d: Delegation): (string | number | null)[] {
  const expiresMs = Date.parse(d.expiresAt);
  if (Number.isNaN(expiresMs)) throw new Error(`delegation ${d.id}: expiresAt is not a date`);
  return [
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
  ];
}

export const DELEGATION_COLUMNS =
  "id, human, human_id, agent, agent_id, created_by, created_at, expires_at, expires_ms, revoked_at, revoked_by";

export class SqliteDelegationTables implements DelegationStore {
  readonly #db: DatabaseSync;
  readonly #now: () => number;

  constructor(db: DatabaseSync, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.#db.prepare(sql).all(...params) as Row[];
  }

  async delegationCreate(delegation: Delegation): Promise<void> {
    this.#db
      .prepare(`INSERT INTO delegations (${DELEGATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(...delegationValues(delegation));
  }

  async delegationGet(id: string): Promise<Delegation | undefined> {
    const row = this.#all("SELECT * FROM delegations WHERE id = ?", id)[0];
    return row ? delegationFromRow(row) : undefined;
  }

  async delegationList(query: { human?: string; agent?: string; activeAt?: string }): Promise<Delegation[]> {
    const { where, params } = delegationWhere(query, () => "?");
    return this.#all(`SELECT * FROM delegations${where} ORDER BY seq DESC`, ...params).map(delegationFromRow);
  }

  async delegationRevoke(id: string, by: string): Promise<Delegation | undefined> {
    this.#db
      .prepare("UPDATE delegations SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL")
      .run(new Date(this.#now()).toISOString(), by, id);
    return this.delegationGet(id);
  }
}
