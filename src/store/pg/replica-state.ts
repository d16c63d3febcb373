// The PostgreSQL side of the state replicas share (src/store/replica-state.ts holds the SQLite side and the stance).
// Each counter swap is one statement: PostgreSQL locks the row it updates, so of two replicas writing the same version
// exactly one succeeds.

import { CONSOLE_SESSION_COLUMNS, consoleSessionFromRow, consoleSessionValues } from "../replica-state.ts";
import type { ConsoleSessionRow, ReplicaStateStore } from "../types.ts";
import type { Db } from "./db.ts";

export class PgReplicaStateTables implements ReplicaStateStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async consoleSessionCreate(
    session: ConsoleSessionRow,
    keep: { seenSinceMs: number; createdSinceMs: number; max: number },
  ): Promise<void> {
    await this.#db.sql.count("DELETE FROM console_sessions WHERE last_seen_ms < $1 OR created_ms < $2", [
      keep.seenSinceMs,
      keep.createdSinceMs,
    ]);
    await this.#db.sql.count(
      `DELETE FROM console_sessions WHERE digest IN
         (SELECT digest FROM console_sessions ORDER BY created_ms DESC OFFSET $1)`,
      [Math.max(0, keep.max - 1)],
    );
    await this.#db.sql(
      `INSERT INTO console_sessions (${CONSOLE_SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
      consoleSessionValues(session),
    );
  }

  async consoleSessionGet(digest: string): Promise<ConsoleSessionRow | undefined> {
    const [row] = await this.#db.sql("SELECT * FROM console_sessions WHERE digest = $1", [digest]);
    return row ? consoleSessionFromRow(row) : undefined;
  }

  async consoleSessionTouch(digest: string, lastSeenMs: number): Promise<void> {
    await this.#db.sql.count(
      "UPDATE console_sessions SET last_seen_ms = $1 WHERE digest = $2 AND last_seen_ms < $1",
      [lastSeenMs, digest],
    );
  }

  async consoleSessionDelete(digest: string): Promise<void> {
    await this.#db.sql.count("DELETE FROM console_sessions WHERE digest = $1", [digest]);
  }

  async consoleSessionDeleteCredential(credentialId: string): Promise<void> {
    await this.#db.sql.count("DELETE FROM console_sessions WHERE credential_id = $1", [credentialId]);
  }

  async counterGet(key: string): Promise<{ version: number; state: string } | undefined> {
    const [row] = await this.#db.sql("SELECT version, state_json FROM shared_counters WHERE key = $1", [key]);
    return row ? { version: Number(row.version), state: String(row.state_json) } : undefined;
  }

  async counterSwap(key: string, version: number, state: string, expiresMs: number): Promise<boolean> {
    if (version === 0) {
      return (
        (await this.#db.sql.count(
          `INSERT INTO shared_counters (key, version, state_json, expires_ms) VALUES ($1, 1, $2, $3)
           ON CONFLICT (key) DO NOTHING`,
          [key, state, expiresMs],
        )) === 1
      );
    }
    return (
      (await this.#db.sql.count(
        `UPDATE shared_counters SET version = version + 1, state_json = $1, expires_ms = $2
         WHERE key = $3 AND version = $4`,
        [state, expiresMs, key, version],
      )) === 1
    );
  }

  async counterPurge(nowMs: number): Promise<number> {
    return this.#db.sql.count("DELETE FROM shared_counters WHERE expires_ms < $1", [nowMs]);
  }
}
