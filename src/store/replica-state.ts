// The state several gateway replicas share besides identities and reviews (issue 16 §7): console sign-in sessions and
// the counters of rate limits and sign-in throttles. The SQLite side; pg/replica-state.ts is the PostgreSQL one, and
// the store contract pins both.
//
// Counters are compare-and-set rows: a version and a JSON state. A writer reads the row, computes the next state and
// writes it only if the version is unchanged (one statement, atomic in both engines); when another replica wrote first
// it reads again. What the state means is the caller's (src/policy/shared-limiter.ts, src/identity/throttle.ts).
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { ConsoleSessionRow, ReplicaStateStore } from "./types.ts";

type Row = Record<string, unknown>;

export function consoleSessionFromRow(row: Row): ConsoleSessionRow {
  return {
    digest: String(row.digest),
    credentialId: String(row.credential_id),
    identityName: String(row.identity_name),
    csrfToken: String(row.csrf_token),
    createdMs: Number(row.created_ms),
    lastSeenMs: Number(row.last_seen_ms),
  };
}

export function consoleSessionValues(s: ConsoleSessionRow): (string | number)[] {
  return [s.digest, s.credentialId, s.identityName, s.csrfToken, s.createdMs, s.lastSeenMs];
}

export const CONSOLE_SESSION_COLUMNS =
  "digest, credential_id, identity_name, csrf_token, created_ms, last_seen_ms";

export class SqliteReplicaStateTables implements ReplicaStateStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#db.prepare(sql).run(...params).changes);
  }

  async consoleSessionCreate(
    session: ConsoleSessionRow,
    keep: { seenSinceMs: number; createdSinceMs: number; max: number },
  ): Promise<void> {
    this.#run(
      "DELETE FROM console_sessions WHERE last_seen_ms < ? OR created_ms < ?",
      keep.seenSinceMs,
      keep.createdSinceMs,
    );
    this.#run(
      `DELETE FROM console_sessions WHERE digest IN
         (SELECT digest FROM console_sessions ORDER BY created_ms DESC LIMIT -1 OFFSET ?)`,
      Math.max(0, keep.max - 1),
    );
    this.#run(
      `INSERT INTO console_sessions (${CONSOLE_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`,
      ...consoleSessionValues(session),
    );
  }

  async consoleSessionGet(digest: string): Promise<ConsoleSessionRow | undefined> {
    const row = this.#db.prepare("SELECT * FROM console_sessions WHERE digest = ?").get(digest) as
      | Row
      | undefined;
    return row ? consoleSessionFromRow(row) : undefined;
  }

  async consoleSessionTouch(digest: string, lastSeenMs: number): Promise<void> {
    this.#run(
      "UPDATE console_sessions SET last_seen_ms = ? WHERE digest = ? AND last_seen_ms < ?",
      lastSeenMs,
      digest,
      lastSeenMs,
    );
  }

  async consoleSessionDelete(digest: string): Promise<void> {
    this.#run("DELETE FROM console_sessions WHERE digest = ?", digest);
  }

  async consoleSessionDeleteCredential(credentialId: string): Promise<void> {
    this.#run("DELETE FROM console_sessions WHERE credential_id = ?", credentialId);
  }

  async counterGet(key: string): Promise<{ version: number; state: string } | undefined> {
    const row = this.#db.prepare("SELECT version, state_json FROM shared_counters WHERE key = ?").get(key) as
      | Row
      | undefined;
    return row ? { version: Number(row.version), state: String(row.state_json) } : undefined;
  }

  async counterSwap(key: string, version: number, state: string, expiresMs: number): Promise<boolean> {
    if (version === 0) {
      return (
        this.#run(
          `INSERT INTO shared_counters (key, version, state_json, expires_ms) VALUES (?, 1, ?, ?)
           ON CONFLICT (key) DO NOTHING`,
          key,
          state,
          expiresMs,
        ) === 1
      );
    }
    return (
      this.#run(
        "UPDATE shared_counters SET version = version + 1, state_json = ?, expires_ms = ? WHERE key = ? AND version = ?",
        state,
        expiresMs,
        key,
        version,
      ) === 1
    );
  }

  async counterPurge(nowMs: number): Promise<number> {
    return this.#run("DELETE FROM shared_counters WHERE expires_ms < ?", nowMs);
  }
}
