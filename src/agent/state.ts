// What the gateway keeps about agents, in the store's shared compare-and-set table (store.counters) so every replica
// sees the same: join tokens (by SHA-256 only, one-time use, expiry enforced) and agent records (cluster, revocation).
//
// Security stance: a join token is shown once and never stored; its use is a compare-and-set from "unused" to "used",
// so two agents racing with one token (or two replicas) get one certificate between them. An agent record is created
// when a token is used and is the authority on every connect and renewal: its cluster must be the certificate's, and
// a revoked record refuses every certificate of that agent, whatever its validity.
import { randomBytes } from "node:crypto";
import { generateToken, hashToken } from "../shared/tokens.ts";

/** The part of the store's shared table this module uses (structurally store.counters). */
export interface SharedTable {
  get(key: string): Promise<{ version: number; state: string } | undefined>;
  swap(key: string, version: number, state: string, expiresMs: number): Promise<boolean>;
}

export const JOIN_TOKEN_PREFIX = "airlock_join_";
const TEN_YEARS_MS = 10 * 365 * 86_400_000;

interface JoinTokenRow {
  cluster: string;
  expiresMs: number;
  createdBy: string;
  usedMs?: number;
  usedBy?: string;
}

export interface AgentRecord {
  id: string;
  cluster: string;
  joinedMs: number;
  revokedMs?: number;
  revokedBy?: string;
}

export type JoinResult =
  | { ok: true; agent: AgentRecord }
  | { ok: false; why: "unknown" | "used" | "expired" | "other-cluster" };

const joinKey = (hash: string) => `agent-join:${hash}`;
const agentKey = (id: string) => `agent:${id}`;

export class AgentState {
  readonly #table: SharedTable;
  readonly #now: () => number;

  constructor(table: SharedTable, now: () => number = Date.now) {
    this.#table = table;
    this.#now = now;
  }

  /** A new join token for `cluster`, valid `ttlMs`; the token itself is returned once and only its hash is kept. */
  async createJoinToken(
    cluster: string,
    ttlMs: number,
    createdBy: string,
  ): Promise<{ token: string; expiresAt: string }> {
    const token = JOIN_TOKEN_PREFIX + generateToken().slice("airlock_".length);
    const expiresMs = this.#now() + ttlMs;
    const row: JoinTokenRow = { cluster, expiresMs, createdBy };
    if (!(await this.#table.swap(joinKey(hashToken(token)), 0, JSON.stringify(row), expiresMs)))
      throw new Error("join token collision");
    return { token, expiresAt: new Date(expiresMs).toISOString() };
  }

  /** Uses a join token for `cluster` (once): a new agent record, or why not. */
  async join(token: string, cluster: string): Promise<JoinResult> {
    const key = joinKey(hashToken(token));
    const found = await this.#table.get(key);
    if (!found) return { ok: false, why: "unknown" };
    const row = JSON.parse(found.state) as JoinTokenRow;
    if (row.usedMs !== undefined) return { ok: false, why: "used" };
    const now = this.#now();
    if (row.expiresMs <= now) return { ok: false, why: "expired" };
    // A token names its cluster: an agent that asks for another (its flag says prod, the token was made for dev)
    // is refused, and the token stays unused.
    if (row.cluster !== cluster) return { ok: false, why: "other-cluster" };
    const agent: AgentRecord = { id: `agent-${randomBytes(6).toString("hex")}`, cluster, joinedMs: now };
    const used: JoinTokenRow = { ...row, usedMs: now, usedBy: agent.id };
    // Kept past its expiry as "used" for as long as it could have been presented, so a replay says "used".
    if (!(await this.#table.swap(key, found.version, JSON.stringify(used), row.expiresMs + 86_400_000)))
      return { ok: false, why: "used" };
    await this.#table.swap(agentKey(agent.id), 0, JSON.stringify(agent), now + TEN_YEARS_MS);
    return { ok: true, agent };
  }

  async agent(id: string): Promise<AgentRecord | undefined> {
    const found = await this.#table.get(agentKey(id));
    return found ? (JSON.parse(found.state) as AgentRecord) : undefined;
  }

  /** Marks an agent revoked (kept: every certificate it holds is refused from now on). Undefined when unknown. */
  async revoke(id: string, by: string): Promise<AgentRecord | undefined> {
    for (;;) {
      const found = await this.#table.get(agentKey(id));
      if (!found) return undefined;
      const record = JSON.parse(found.state) as AgentRecord;
      if (record.revokedMs !== undefined) return record;
      const revoked: AgentRecord = { ...record, revokedMs: this.#now(), revokedBy: by };
      if (
        await this.#table.swap(
          agentKey(id),
          found.version,
          JSON.stringify(revoked),
          this.#now() + TEN_YEARS_MS,
        )
      )
        return revoked;
    }
  }
}
